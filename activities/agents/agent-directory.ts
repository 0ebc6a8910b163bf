/**
 * The agent directory: what the transfer queue (issue #8's queue workflow, through its activities) needs of agents,
 * and the one implementation of state changes that the API uses too. Build it once per process:
 *
 * ```ts
 * const directory = createAgentDirectory({ agents: repos.agents });
 * ```
 *
 * | function | returns |
 * |---|---|
 * | `onlineAgents(tenantId, skillGroupId)` | `OnlineAgent[]`: the group's agents that are ONLINE, idle (not reserved) and not frozen, longest idle first (`idleSince` ascending, ties by agent id) |
 * | `setState(tenantId, agentId, state, { reason?, by, callId?, note? })` | `StateChange`: `{ ok: true, changed, state }` or `{ ok: false, code, message, state? }`; never throws for a refused change |
 * | `phoneOf(tenantId, agentId)` | `{ endpoint, address } \| null`: originate `PJSIP/<endpoint>` (the aor's contact is `address`) |
 * | `settingsOf(tenantId, agentId)` | `{ autoAnswerSeconds, afterCallWorkSeconds, source } \| null`; a `null` seconds value = off |
 * | `reserve(tenantId, agentId, callId)` | `ReserveResult`: `{ ok: true, agent }` or `{ ok: false, code, heldBy? }` |
 * | `unreserve(tenantId, agentId, callId)` | `boolean`: true if the agent was reserved by `callId` and is now free |
 * | `stateOf(tenantId, agentId)` | `AgentStateView \| null` |
 *
 * **Reservation.** `reserve` is a compare-and-set on the agent's state document (`agent_states/<agentId>`): it
 * succeeds only if the agent is ONLINE, not reserved, not frozen and has a skill group, and then marks it reserved
 * by `callId`, so two simultaneous transfers never reach the same agent. It is idempotent for the same `callId`
 * (a retried activity gets the same grant). A reserved agent is not idle: `onlineAgents` leaves it out, and only a
 * `setState` that names the same `callId` (or `unreserve(callId)`) changes its state or frees it; an API state change
 * is refused with `onCall` meanwhile.
 * **The queue workflow is the single writer that calls `reserve`** (and `unreserve`, and `setState` with a `callId`):
 * nothing else reserves agents, so whatever holds a reservation is a live transfer in Temporal.
 *
 * **Ending an offer or a call** (one atomic write each, releasing the reservation of `callId`):
 * - rang 30 s unanswered, or the phone rejected: `setState(t, a, 'SHORT_BREAK', { reason: 'missedCall', by: 'queue', callId })`
 * - call ended: `setState(t, a, 'AFTER_CALL_WORK', { by: 'queue', callId })`; after `afterCallWorkSeconds` (when not
 *   null) `setState(t, a, 'ONLINE', { by: 'queue' })` — refused (`frozen`, `badTransition`) if the agent meanwhile
 *   was frozen or changed state itself, which the queue ignores
 * - offer withdrawn before the agent was rung (the callee hung up): `unreserve(t, a, callId)` (idle time kept)
 *
 * Atomicity: every write to one agent's state runs inside withDocLock(`agent_states/<agentId>`) (FerretDB 1.24 loses
 * concurrent updates of one document) and is a compare-and-set on the document's `version` (several processes on
 * MongoDB). The history entry is appended after the state is written (a crash between the two loses the entry, never
 * the state). Refusals are values (`ok: false`), so an activity can return them; faults (database down) throw.
 */
import type { AgentDoc, AgentRepository, AgentStateDoc } from '../mongo/agent-repository';
import { withDocLock } from '../mongo/doc-lock';
import { agentEndpoint } from './agent-phones';
import {
  AGENT_STATE_LABELS,
  DEFAULT_TENANT_SETTINGS,
  checkTransition,
  effectiveSettings,
  isFrozen,
  type AgentState,
  type BreakReason,
  type EffectiveSettings,
  type StateRefusal,
  type TenantHotlineSettings,
} from './agent-states';

/** An agent the queue may offer a call to. */
export interface OnlineAgent {
  agentId: string;
  displayName: string;
  /** PJSIP endpoint id (`agent-<agentId>`). */
  endpoint: string;
  /** host:port of the agent's phone. */
  address: string;
  /** Since when the agent is free for calls; the longest idle is offered first. */
  idleSince: Date;
}

export interface AgentStateView {
  agentId: string;
  state: AgentState;
  /** 未上班 / 在线 / 小休 / 话后处理 / 下班 */
  label: string;
  /** The break reason of SHORT_BREAK. */
  reason: string | null;
  since: Date;
  idleSince: Date | null;
  /** The call the agent is reserved by (offered or connected); null when free. */
  reservation: { callId: string; at: Date } | null;
}

export interface SetStateOptions {
  /** Only for SHORT_BREAK: rest, meal, training, coaching, meeting (the API's), or missedCall (the queue's). */
  reason?: BreakReason;
  /** Who changes it: `queue`, or the API caller's role (kept in the history). */
  by: string;
  /** The call whose reservation this change ends (the queue only); the reservation is released in the same write. */
  callId?: string;
  /** A free-text note for the history (e.g. why a supervisor signed the agent out). */
  note?: string;
}

export type StateChange =
  | { ok: true; changed: boolean; state: AgentStateView }
  | { ok: false; code: StateRefusal; message: string; state?: AgentStateView };

export type ReserveResult =
  | { ok: true; agent: OnlineAgent }
  | { ok: false; code: 'notFound' | 'frozen' | 'noSkillGroup' | 'notOnline' | 'reserved'; heldBy?: string };

export interface AgentDirectoryDeps {
  agents: AgentRepository;
  /** The clock (tests); default the system's. */
  now?: () => Date;
}

const MAX_TRIES = 20;

export function stateView(doc: AgentStateDoc): AgentStateView {
  return {
    agentId: doc._id,
    state: doc.state,
    label: AGENT_STATE_LABELS[doc.state],
    reason: doc.reason ?? null,
    since: doc.since,
    idleSince: doc.idleSince ?? null,
    reservation: doc.reservation ? { callId: doc.reservation.callId, at: doc.reservation.at } : null,
  };
}

export function tenantSettingsOf(doc: TenantHotlineSettings | null): TenantHotlineSettings {
  if (!doc) return { ...DEFAULT_TENANT_SETTINGS };
  return {
    autoAnswer: doc.autoAnswer,
    autoEndAfterCallWork: doc.autoEndAfterCallWork,
    allowAgentOverride: doc.allowAgentOverride,
  };
}

export function createAgentDirectory(deps: AgentDirectoryDeps) {
  const repo = deps.agents;
  const now = deps.now ?? (() => new Date());
  const lock = <T>(agentId: string, fn: () => Promise<T>) => withDocLock(`agent_states/${agentId}`, fn);

  const onlineView = (agent: AgentDoc, state: AgentStateDoc): OnlineAgent => ({
    agentId: agent._id,
    displayName: agent.displayName,
    endpoint: agentEndpoint(agent._id),
    address: agent.phoneAddress,
    idleSince: state.idleSince ?? state.since,
  });

  async function stateDoc(tenantId: string, agentId: string): Promise<AgentStateDoc | null> {
    const doc = await repo.loadState(tenantId, agentId);
    return doc.tenantId === tenantId ? doc : null;
  }

  /** The group's agents that are online, idle and not frozen, longest idle first. */
  async function onlineAgents(tenantId: string, skillGroupId: string): Promise<OnlineAgent[]> {
    const at = now();
    const agents = (await repo.agentsOfSkillGroup(tenantId, skillGroupId)).filter((a) => !isFrozen(a.freeze, at));
    const states = new Map(
      (
        await repo.statesOf(
          tenantId,
          agents.map((a) => a._id),
        )
      ).map((s) => [s._id, s]),
    );
    return agents
      .flatMap((a) => {
        const s = states.get(a._id);
        return s && s.state === 'ONLINE' && !s.reservation ? [onlineView(a, s)] : [];
      })
      .sort((x, y) => x.idleSince.getTime() - y.idleSince.getTime() || x.agentId.localeCompare(y.agentId));
  }

  /** Change the agent's state (validated; atomic per agent). See the module comment for the queue's uses. */
  async function setState(
    tenantId: string,
    agentId: string,
    to: AgentState,
    opts: SetStateOptions,
  ): Promise<StateChange> {
    return lock(agentId, async () => {
      const agent = await repo.getAgent(tenantId, agentId);
      if (!agent) return { ok: false, code: 'notFound', message: `agent ${agentId} not found` };
      for (let i = 0; i < MAX_TRIES; i++) {
        const doc = await stateDoc(tenantId, agentId);
        if (!doc) return { ok: false, code: 'notFound', message: `agent ${agentId} not found` };
        const releasing = opts.callId !== undefined && doc.reservation?.callId === opts.callId;
        const reason = to === 'SHORT_BREAK' ? (opts.reason ?? null) : null;
        const same = doc.state === to && (doc.reason ?? null) === reason;
        const refused = checkTransition({
          from: doc.state,
          to,
          ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
          frozen: isFrozen(agent.freeze, now()),
          skillGroups: agent.skillGroupIds.length,
        });
        if (refused?.code === 'badReason') return { ok: false, ...refused, state: stateView(doc) };
        // The same state again: nothing to do (a retried request or activity).
        if (same && !releasing) return { ok: true, changed: false, state: stateView(doc) };
        if (doc.reservation && !releasing)
          return {
            ok: false,
            code: 'onCall',
            message: `the agent is reserved by call ${doc.reservation.callId}; its state changes when the call ends`,
            state: stateView(doc),
          };
        if (refused && !same) return { ok: false, ...refused, state: stateView(doc) };
        const at = now();
        const next: Pick<AgentStateDoc, 'state' | 'reason' | 'since' | 'idleSince' | 'reservation'> = {
          state: to,
          reason,
          since: same ? doc.since : at,
          // Idle from the moment the agent is free for calls: going online, or a call released while online.
          idleSince: to === 'ONLINE' ? (doc.state !== 'ONLINE' || releasing ? at : (doc.idleSince ?? at)) : null,
          reservation: releasing ? null : (doc.reservation ?? null),
        };
        if (!(await repo.casState(agentId, doc.version, next))) continue;
        if (!same)
          await repo.appendHistory(tenantId, agentId, {
            at,
            from: doc.state,
            to,
            ...(reason ? { reason } : {}),
            by: opts.by,
            ...(opts.callId !== undefined ? { callId: opts.callId } : {}),
            ...(opts.note !== undefined ? { note: opts.note } : {}),
          });
        return { ok: true, changed: true, state: stateView({ ...doc, ...next }) };
      }
      throw new Error(`could not change the state of agent ${agentId}: too much contention`);
    });
  }

  /** Reserve an online, idle agent for `callId` (compare-and-set); idempotent for the same call. */
  async function reserve(tenantId: string, agentId: string, callId: string): Promise<ReserveResult> {
    return lock(agentId, async () => {
      const agent = await repo.getAgent(tenantId, agentId);
      if (!agent) return { ok: false, code: 'notFound' };
      for (let i = 0; i < MAX_TRIES; i++) {
        const doc = await stateDoc(tenantId, agentId);
        if (!doc) return { ok: false, code: 'notFound' };
        if (doc.reservation?.callId === callId) return { ok: true, agent: onlineView(agent, doc) };
        if (doc.reservation) return { ok: false, code: 'reserved', heldBy: doc.reservation.callId };
        if (doc.state !== 'ONLINE') return { ok: false, code: 'notOnline' };
        if (isFrozen(agent.freeze, now())) return { ok: false, code: 'frozen' };
        if (!agent.skillGroupIds.length) return { ok: false, code: 'noSkillGroup' };
        const reservation = { callId, at: now() };
        if (await repo.casState(agentId, doc.version, { reservation }))
          return { ok: true, agent: onlineView(agent, doc) };
      }
      throw new Error(`could not reserve agent ${agentId}: too much contention`);
    });
  }

  /** Free the agent if `callId` holds it; its idle time is kept (it did no work). */
  async function unreserve(tenantId: string, agentId: string, callId: string): Promise<boolean> {
    return lock(agentId, async () => {
      for (let i = 0; i < MAX_TRIES; i++) {
        const doc = await stateDoc(tenantId, agentId);
        if (!doc || doc.reservation?.callId !== callId) return false;
        if (await repo.casState(agentId, doc.version, { reservation: null })) return true;
      }
      throw new Error(`could not release agent ${agentId}: too much contention`);
    });
  }

  async function phoneOf(tenantId: string, agentId: string): Promise<{ endpoint: string; address: string } | null> {
    const agent = await repo.getAgent(tenantId, agentId);
    return agent ? { endpoint: agentEndpoint(agent._id), address: agent.phoneAddress } : null;
  }

  async function settingsOf(tenantId: string, agentId: string): Promise<EffectiveSettings | null> {
    const [agent, tenant] = await Promise.all([repo.getAgent(tenantId, agentId), repo.getSettings(tenantId)]);
    return agent ? effectiveSettings(tenantSettingsOf(tenant), agent.hotlineSettings) : null;
  }

  async function stateOf(tenantId: string, agentId: string): Promise<AgentStateView | null> {
    if (!(await repo.getAgent(tenantId, agentId))) return null;
    const doc = await stateDoc(tenantId, agentId);
    return doc ? stateView(doc) : null;
  }

  return { onlineAgents, setState, reserve, unreserve, phoneOf, settingsOf, stateOf };
}

export type AgentDirectory = ReturnType<typeof createAgentDirectory>;
