/**
 * The agent's own view (坐席工作台, seed §5.1–§5.2, issue #8 items 4 and 5): the call offered to or connected with the
 * agent — who is calling, the robot's dialog so far, the contact's row —, the agent's state with its after-call-work
 * timer, the queue length of each of its skill groups (排队:N), the calls it was offered and handled, their dialogs,
 * and a wrap-up note (服务小记: 解决 / 待跟进, 备注) per handled call.
 *
 * Everything is keyed by the caller's own agent (the API key's `agent@<agentId>`), never by an id from the request:
 * - **Which calls are the agent's.** The agent's state history (`agent_state_history`, one bucket per agent and UTC
 *   day, exact `_id`s) is where the queue wrote every call that ended with this agent: `AFTER_CALL_WORK` with the
 *   call id (handled), `SHORT_BREAK` reason `missedCall` with the call id (offered, not answered). Together with the
 *   current reservation (`agent_states/<agentId>`) that is the agent's offered and handled calls. A call id from the
 *   request is accepted only if it is among them (else 404), so an agent never reads another agent's call.
 * - **Reads are exact `_id`s**: the state document, at most {@link MAX_DAYS} history buckets, the call record, the
 *   dialog record and the wrap-up note by the attempt id, the contact's page by `<taskId>/<page>`. Not a hot path.
 * - **The dialog so far**: the dialog record once the call has ended; while it is live, the turns the contact
 *   workflow handed to its speak / listen activities (their inputs are in the workflow's history). The turn that
 *   decided the transfer reaches the history only with the call's end, so a live view may lack that last turn.
 * - **Queue lengths** come from each skill group's queue workflow (`queueProgress` query); a group with no queue
 *   workflow running has nobody waiting.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { Schema, type Model } from 'mongoose';
import type { AgentDirectory, AgentStateView } from '../../activities/agents/agent-directory';
import type { Repositories } from '../../activities/mongo/connection';
import { historyDay, type StateHistoryEntry } from '../../activities/mongo/agent-repository';
import { withDocLock } from '../../activities/mongo/doc-lock';
import { contactWorkflowId, queueWorkflowId } from '../../src/ids';
import { maskPhone } from '../../src/phone';
import type { DialogTurn } from '../../src/script/engine';
import { NotFound } from '../../src/errors';
import { queueProgressQuery, type QueueProgress } from '../../workflows/definitions';
import { REPOSITORIES, TEMPORAL } from '../common/tokens';
import type { AgentDto, ChangeAgentStateDto } from './agent.dto';
import type {
  AfterCallWorkTimerDto,
  AgentDialogDto,
  MyCallDialogDto,
  MyCallDto,
  MyCallsDto,
  MyOfferDto,
  MyStateDto,
  OfferedCallDto,
  QueueLengthsDto,
  WrapUpDto,
  WrapUpViewDto,
} from './agent-view.dto';
import { AgentsService } from './agents.service';
import { AGENT_DIRECTORY } from './tokens';

/** How far back the agent's calls are looked for (history buckets, one per UTC day). */
export const MAX_DAYS = 31;
const DAY_MS = 86_400_000;
/** At most this many calls in one listing (each costs one exact-`_id` read of its call record). */
const MAX_CALLS = 200;

export type WrapUpOutcome = 'resolved' | 'followUp';

/** 服务小记: one per handled call, `_id` = the attempt id (only the agent who handled the call writes it). */
export interface WrapUpDoc {
  _id: string;
  tenantId: string;
  agentId: string;
  /** 解决 (resolved) or 待跟进 (followUp). */
  outcome: WrapUpOutcome;
  /** 备注 */
  remark: string;
  createdAt: Date;
  updatedAt: Date;
}

const wrapUpSchema = new Schema<WrapUpDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    agentId: { type: String, required: true },
    outcome: { type: String, required: true },
    remark: { type: String, default: '' },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  // Exact `_id` (the attempt id) only.
  { collection: 'agent_wrap_ups', versionKey: false },
);

/** What the agent's history says about one call. */
export interface AgentCallEntry {
  attemptId: string;
  /** handled: the agent talked with the callee; missed: offered, not answered (小休); current: offered or on now. */
  kind: 'handled' | 'missed' | 'current';
  /** When the call ended for the agent (or, for `current`, when it was offered). */
  at: Date;
}

/** The attempt id's parts: `<taskId>-<contactIndex>-<attempt>` (src/ids.ts). */
export function parseAttemptId(attemptId: string): { taskId: string; contactIndex: number; attempt: number } | null {
  const m = /^([A-Za-z0-9]{6,40})-(\d+)-(\d+)$/.exec(attemptId);
  return m ? { taskId: m[1]!, contactIndex: Number(m[2]), attempt: Number(m[3]) } : null;
}

/** The calls in an agent's history entries and reservation, newest first, one entry per call (handled wins). */
export function callsOfAgent(entries: StateHistoryEntry[], state: AgentStateView | null): AgentCallEntry[] {
  const byCall = new Map<string, AgentCallEntry>();
  for (const e of entries) {
    if (!e.callId) continue;
    const kind =
      e.to === 'AFTER_CALL_WORK' ? 'handled' : e.to === 'SHORT_BREAK' && e.reason === 'missedCall' ? 'missed' : null;
    if (!kind) continue;
    const seen = byCall.get(e.callId);
    if (!seen || (seen.kind === 'missed' && kind === 'handled'))
      byCall.set(e.callId, { attemptId: e.callId, kind, at: e.at });
  }
  if (state?.reservation && !byCall.has(state.reservation.callId))
    byCall.set(state.reservation.callId, {
      attemptId: state.reservation.callId,
      kind: 'current',
      at: state.reservation.at,
    });
  return [...byCall.values()].sort((a, b) => b.at.getTime() - a.at.getTime());
}

/** The dialog turns the contact workflow handed to its activities so far (speak, listen; endCall carries them all). */
export async function turnsFromHistory(temporal: Client, workflowId: string): Promise<DialogTurn[]> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const turns: DialogTurn[] = [];
  for (const e of history.events ?? []) {
    const a = e.activityTaskScheduledEventAttributes;
    const name = a?.activityType?.name;
    if (!name || !['speak', 'listen', 'endCall'].includes(name)) continue;
    const [input] = (a.input?.payloads ?? []).map((p) =>
      defaultPayloadConverter.fromPayload<{ turns?: DialogTurn[] }>(p),
    );
    if (name === 'endCall') return input?.turns ?? [];
    turns.push(...(input?.turns ?? []));
  }
  return turns;
}

const turnView = ({ atMs, ...turn }: DialogTurn) => ({ at: new Date(atMs).toISOString(), ...turn });

@Injectable()
export class AgentViewService {
  private readonly wrapUps: Model<WrapUpDoc>;

  constructor(
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(AGENT_DIRECTORY) private readonly directory: AgentDirectory,
    @Inject(TEMPORAL) private readonly temporal: Client,
    private readonly agents: AgentsService,
  ) {
    const conn = repos.conn;
    this.wrapUps =
      (conn.models.AgentWrapUp as Model<WrapUpDoc> | undefined) ?? conn.model<WrapUpDoc>('AgentWrapUp', wrapUpSchema);
  }

  /** The agent (404 if the key names an agent the tenant does not have) with its state. */
  async me(tenantId: string, agentId: string): Promise<AgentDto> {
    return this.agents.get(tenantId, agentId);
  }

  /** The agent's state, with the after-call-work timer (话后处理 mm:ss) while in after-call work. */
  async state(tenantId: string, agentId: string): Promise<MyStateDto> {
    const state = await this.directory.stateOf(tenantId, agentId);
    if (!state) throw new NotFound(`agent ${agentId}`);
    return { ...state, afterCallWork: await this.afterCallWork(tenantId, agentId, state) };
  }

  private async afterCallWork(
    tenantId: string,
    agentId: string,
    state: AgentStateView,
  ): Promise<AfterCallWorkTimerDto | null> {
    if (state.state !== 'AFTER_CALL_WORK') return null;
    const seconds = (await this.directory.settingsOf(tenantId, agentId))?.afterCallWorkSeconds ?? null;
    return {
      since: state.since,
      /** When it ends by itself; null = until the agent resumes (自动结束后处理 off). */
      endsAt: seconds === null ? null : new Date(state.since.getTime() + seconds * 1000),
      elapsedSeconds: Math.max(0, Math.floor((Date.now() - state.since.getTime()) / 1000)),
    };
  }

  /** 上班 / 小休 / 继续工作 / 下班 for the agent itself (the same rules as a supervisor's change). */
  async changeState(tenantId: string, agentId: string, dto: ChangeAgentStateDto): Promise<MyStateDto> {
    const state = await this.agents.changeState(tenantId, agentId, dto, { tenantId, roles: ['agent'], agentId });
    return { ...state, afterCallWork: await this.afterCallWork(tenantId, agentId, state) };
  }

  /** 排队:N of each of the agent's skill groups, from the groups' queue workflows. */
  async queues(tenantId: string, agentId: string): Promise<QueueLengthsDto> {
    const agent = await this.repos.agents.getAgent(tenantId, agentId);
    if (!agent) throw new NotFound(`agent ${agentId}`);
    const groups = await this.repos.agents.skillGroupsById(tenantId, agent.skillGroupIds ?? []);
    const items = await Promise.all(
      groups.map(async (g) => {
        const progress = await this.queueProgress(tenantId, g._id);
        return {
          skillGroupId: g._id,
          name: g.name,
          displayName: g.displayName,
          waiting: progress?.waiting.filter((c) => !c.offeredTo).length ?? 0,
          offered: progress?.waiting.filter((c) => c.offeredTo).length ?? 0,
        };
      }),
    );
    return { items };
  }

  private async queueProgress(tenantId: string, skillGroupId: string): Promise<QueueProgress | null> {
    try {
      return await this.temporal.workflow.getHandle(queueWorkflowId(tenantId, skillGroupId)).query(queueProgressQuery);
    } catch {
      // No queue workflow (nobody transferred to this group lately) or it has ended: nobody waits.
      return null;
    }
  }

  /** The call offered to or connected with the agent now (screen pop: 新的来电), or `call: null`. */
  async offer(tenantId: string, agentId: string): Promise<MyOfferDto> {
    const state = await this.directory.stateOf(tenantId, agentId);
    if (!state) throw new NotFound(`agent ${agentId}`);
    const callId = state.reservation?.callId;
    if (!callId) return { agentId, state, call: null };
    return { agentId, state, call: await this.callView(tenantId, agentId, callId, state.reservation!.at) };
  }

  private async callView(tenantId: string, agentId: string, callId: string, offeredAt: Date): Promise<OfferedCallDto> {
    const ids = parseAttemptId(callId);
    const [record, task] = await Promise.all([
      this.repos.calls.get(tenantId, callId),
      ids ? this.repos.tasks.get(tenantId, ids.taskId) : Promise.resolve(null),
    ]);
    const contactIndex = record?.contactIndex ?? ids?.contactIndex;
    const page =
      task && contactIndex !== undefined
        ? await this.repos.pages.get(tenantId, task._id, Math.floor(contactIndex / task.pageSize))
        : null;
    const contact = page?.contacts.find((c) => c.i === contactIndex);
    // Which of the agent's skill groups the call came through, and whether the agent's phone rings or is talking.
    const agent = await this.repos.agents.getAgent(tenantId, agentId);
    let skillGroupId: string | null = null;
    let phase: 'offered' | 'talking' | null = null;
    for (const g of agent?.skillGroupIds ?? []) {
      const hold = (await this.queueProgress(tenantId, g))?.holds.find(
        (h) => h.agentId === agentId && h.callId === callId,
      );
      if (hold && hold.phase !== 'afterCallWork') {
        skillGroupId = g;
        phase = hold.phase;
        break;
      }
    }
    const phone = record?.phone ?? contact?.phone ?? null;
    return {
      attemptId: callId,
      taskId: ids?.taskId ?? null,
      taskName: task?.name ?? null,
      skillGroupId,
      phase,
      offeredAt,
      // 主叫号码: the agent sees the number it talks to (seed §5.1 "具体的电话号码").
      phone,
      answeredAt: record?.answeredAt ?? null,
      contact: contact
        ? {
            index: contact.i,
            phone: contact.phone,
            ...(contact.name ? { name: contact.name } : {}),
            variables: contact.vars ?? {},
            attempts: contact.attempts ?? 0,
          }
        : null,
      dialog: ids ? await this.dialog(tenantId, callId, ids) : { source: 'none', turns: [] },
    };
  }

  private async dialog(
    tenantId: string,
    callId: string,
    ids: { taskId: string; contactIndex: number },
  ): Promise<AgentDialogDto> {
    const stored = await this.repos.dialogs.get(tenantId, callId);
    if (stored)
      return { source: 'record' as const, tags: stored.tags, end: stored.end, turns: stored.turns.map(turnView) };
    try {
      const turns = await turnsFromHistory(this.temporal, contactWorkflowId(ids.taskId, ids.contactIndex));
      return { source: 'history' as const, turns: turns.map(turnView) };
    } catch {
      return { source: 'none' as const, turns: [] };
    }
  }

  /** The agent's history entries of the last `days` days (exact bucket `_id`s), oldest first. */
  private async history(tenantId: string, agentId: string, days: number): Promise<StateHistoryEntry[]> {
    const now = Date.now();
    const keys: string[] = [];
    for (let d = days - 1; d >= 0; d--) keys.push(historyDay(new Date(now - d * DAY_MS)));
    return this.repos.agents.history(tenantId, agentId, keys);
  }

  private async callsOf(tenantId: string, agentId: string, days: number): Promise<AgentCallEntry[]> {
    const [entries, state] = await Promise.all([
      this.history(tenantId, agentId, days),
      this.directory.stateOf(tenantId, agentId),
    ]);
    if (!state) throw new NotFound(`agent ${agentId}`);
    return callsOfAgent(entries, state);
  }

  /** The agent's own call, or 404 (another agent's call, another tenant's, or none). */
  private async ownCall(tenantId: string, agentId: string, attemptId: string): Promise<AgentCallEntry> {
    const call = (await this.callsOf(tenantId, agentId, MAX_DAYS)).find((c) => c.attemptId === attemptId);
    if (!call) throw new NotFound(`call ${attemptId} of this agent`);
    return call;
  }

  /** The calls offered to and handled by the agent in the last `days` days, newest first, with their wrap-up notes. */
  async calls(tenantId: string, agentId: string, days: number): Promise<MyCallsDto> {
    const calls = (await this.callsOf(tenantId, agentId, days)).slice(0, MAX_CALLS);
    const items = await Promise.all(
      calls.map(async (c): Promise<MyCallDto> => {
        const [record, note] = await Promise.all([
          this.repos.calls.get(tenantId, c.attemptId),
          this.wrapUps.findOne({ _id: c.attemptId }).lean<WrapUpDoc>().exec(),
        ]);
        const ids = parseAttemptId(c.attemptId);
        return {
          attemptId: c.attemptId,
          taskId: ids?.taskId ?? null,
          kind: c.kind,
          at: c.at,
          // Past calls are listed with masked numbers; the live offer shows the number in full.
          ...(record
            ? {
                phone: maskPhone(record.phone),
                result: record.code ?? null,
                resultLabel: record.label ?? null,
                startedAt: record.startedAt ?? null,
                answeredAt: record.answeredAt ?? null,
                endedAt: record.endedAt ?? null,
                talkSeconds: record.talkSeconds ?? null,
              }
            : {}),
          wrapUp:
            note && note.tenantId === tenantId && note.agentId === agentId
              ? { outcome: note.outcome, remark: note.remark, updatedAt: note.updatedAt }
              : null,
        };
      }),
    );
    return { agentId, days, items };
  }

  /** The dialog of one of the agent's calls: the stored record, or the turns so far while the call is live. */
  async callDialog(tenantId: string, agentId: string, attemptId: string): Promise<MyCallDialogDto> {
    await this.ownCall(tenantId, agentId, attemptId);
    const ids = parseAttemptId(attemptId);
    if (!ids) throw new NotFound(`call ${attemptId} of this agent`);
    return { attemptId, ...(await this.dialog(tenantId, attemptId, ids)) };
  }

  /** 服务小记 of a handled call (or the call on now): stored by the attempt id; a second note replaces the first. */
  async wrapUp(tenantId: string, agentId: string, attemptId: string, dto: WrapUpDto): Promise<WrapUpViewDto> {
    const call = await this.ownCall(tenantId, agentId, attemptId);
    if (call.kind === 'missed') throw new NotFound(`handled call ${attemptId} of this agent`);
    const now = new Date();
    const doc = await withDocLock(`agent_wrap_ups/${attemptId}`, () =>
      this.wrapUps
        .findOneAndUpdate(
          { _id: attemptId },
          {
            $set: { tenantId, agentId, outcome: dto.outcome, remark: dto.remark ?? '', updatedAt: now },
            $setOnInsert: { createdAt: now },
          },
          { upsert: true, new: true },
        )
        .lean<WrapUpDoc>()
        .exec(),
    );
    if (!doc) throw new Error(`wrap-up of ${attemptId} vanished`);
    return {
      attemptId,
      agentId,
      outcome: doc.outcome,
      remark: doc.remark,
      createdAt: doc.createdAt,
      updatedAt: doc.updatedAt,
    };
  }
}
