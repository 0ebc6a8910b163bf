/**
 * Agents (坐席, seed §5.4): CRUD, freeze (临时 / 永久冻结) and unfreeze, state changes and their history (seed §5.2),
 * and the tenant's hotline settings (热线设置) with the per-agent override.
 *
 * - Each agent's phone is a PJSIP endpoint `agent-<id>` pushed to Asterisk at once (AsteriskAgentsService): on
 *   create, on an address change, and removed on delete. Asterisk first: a stored agent is one whose phone can ring.
 * - States change through the agent directory (activities/agents/agent-directory.ts), the same code the transfer
 *   queue uses, so the rules (no skill group or frozen → not online; a reserved agent's state is the queue's) hold
 *   for both. Supervisors change any agent's state; an agent-role key only its own ({@link mayChangeStateOf}).
 * - A freeze signs the agent out at once unless a call holds it; either way it cannot go online while frozen. A
 *   temporary freeze ends by itself at its `until`.
 * - Per-agent hotline settings are accepted only while the tenant allows them (allowAgentOverride); stored ones are
 *   ignored, not deleted, when the tenant stops allowing them.
 */
import { ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { AgentDirectory, StateChange } from '../../activities/agents/agent-directory';
import { stateView, tenantSettingsOf } from '../../activities/agents/agent-directory';
import { agentEndpoint } from '../../activities/agents/agent-phones';
import { isFrozen, type HotlineSettings } from '../../activities/agents/agent-states';
import type { Repositories } from '../../activities/mongo/connection';
import { historyDay, type AgentDoc, type AgentStateDoc } from '../../activities/mongo/agent-repository';
import { withDocLock } from '../../activities/mongo/doc-lock';
import { DomainError, NotFound, ValidationFailed, type FieldProblem } from '../../src/errors';
import type { Principal } from '../auth/auth';
import { REPOSITORIES } from '../common/tokens';
import type {
  AgentHotlineSettingsDto,
  ChangeAgentStateDto,
  CreateAgentDto,
  FreezeAgentDto,
  UnfreezeAgentDto,
  UpdateAgentDto,
  UpdateHotlineSettingsDto,
} from './agent.dto';
import { normaliseLoginName, normalisePhoneAddress } from './agent-rules';
import { AsteriskAgentsService } from './asterisk-agents.service';
import { Conflict, agentsLock } from './skill-groups.service';
import { AGENT_DIRECTORY } from './tokens';

const HISTORY_MAX_DAYS = 31;
const DAY_MS = 86_400_000;

export function agentView(a: AgentDoc, state: AgentStateDoc | undefined, now: Date) {
  const frozen = isFrozen(a.freeze, now) ? a.freeze : null;
  return {
    id: a._id,
    endpoint: agentEndpoint(a._id),
    loginName: a.loginName,
    realName: a.realName,
    displayName: a.displayName,
    skillGroupIds: a.skillGroupIds ?? [],
    role: a.role,
    phoneAddress: a.phoneAddress,
    freeze: frozen
      ? { reason: frozen.reason, until: frozen.until ?? null, permanent: !frozen.until, at: frozen.at }
      : null,
    ...(a.lastUnfreeze ? { lastUnfreeze: a.lastUnfreeze } : {}),
    ...(a.hotlineSettings ? { hotlineSettings: a.hotlineSettings } : {}),
    state: stateView(
      state ?? {
        _id: a._id,
        tenantId: a.tenantId,
        state: 'NOT_STARTED',
        since: a.createdAt,
        version: 0,
      },
    ),
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

/**
 * Whose state the caller may change (seed spec §7.2: "an agent changes only its own state"): a supervisor (or admin) any
 * agent of its tenant, an agent-role key (`agent@<agentId>`) only its own agent. Any other id answers 403 naming
 * `id` before anything is read, so the answer does not tell whether that agent exists. The tenant is checked
 * afterwards as for everyone: an id the caller's tenant does not have is 404.
 */
export function mayChangeStateOf(p: Principal, id: string): void {
  if (p.roles.some((r) => r === 'admin' || r === 'supervisor')) return;
  if (p.agentId !== undefined && p.agentId === id) return;
  throw new ForbiddenException({
    message: 'an agent changes only its own state',
    errors: [
      {
        field: 'id',
        value: id,
        reason: p.agentId
          ? `this API key acts for agent ${p.agentId} only (or use PUT /agents/me/state)`
          : 'requires the supervisor role',
      },
    ],
  });
}

/** Who changes a state through the API, as kept in the history. */
const actor = (p: Principal) => p.roles.join('|');

/** A refused state change as an API error (404 for a missing agent, else 409 naming the field). */
export function refusal(change: Extract<StateChange, { ok: false }>): DomainError {
  if (change.code === 'notFound') return new NotFound('agent');
  return new DomainError(`the state change was refused: ${change.message}`, 409, [
    { field: change.code === 'badReason' ? 'reason' : 'state', value: change.code, reason: change.message },
  ]);
}

function hotline(dto: AgentHotlineSettingsDto): Partial<HotlineSettings> {
  return {
    ...(dto.autoAnswer ? { autoAnswer: { enabled: dto.autoAnswer.enabled, seconds: dto.autoAnswer.seconds } } : {}),
    ...(dto.autoEndAfterCallWork
      ? {
          autoEndAfterCallWork: {
            enabled: dto.autoEndAfterCallWork.enabled,
            seconds: dto.autoEndAfterCallWork.seconds,
          },
        }
      : {}),
  };
}

@Injectable()
export class AgentsService {
  constructor(
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(AGENT_DIRECTORY) private readonly directory: AgentDirectory,
    private readonly asterisk: AsteriskAgentsService,
  ) {}

  private get repo() {
    return this.repos.agents;
  }

  async agentOr404(tenantId: string, id: string): Promise<AgentDoc> {
    const a = await this.repo.getAgent(tenantId, id);
    if (!a) throw new NotFound(`agent ${id}`);
    return a;
  }

  private async view(a: AgentDoc) {
    return agentView(a, await this.repo.loadState(a.tenantId, a._id), new Date());
  }

  private loginName(raw: string, field: string): string {
    const c = normaliseLoginName(raw);
    if (!c.ok) throw new ValidationFailed('bad login name', [{ field, value: raw.slice(0, 100), reason: c.reason }]);
    return c.value;
  }

  private phoneAddress(raw: string, field: string): string {
    const c = normalisePhoneAddress(raw);
    if (!c.ok) throw new ValidationFailed('bad phone address', [{ field, value: raw, reason: c.reason }]);
    return c.value;
  }

  private async loginFree(tenantId: string, loginName: string, exceptId?: string): Promise<void> {
    const [other] = await this.repo.agentsByLoginName(tenantId, [loginName]);
    if (other && other._id !== exceptId)
      throw new Conflict('an agent with this login name exists', [
        { field: 'loginName', value: loginName, reason: `already the login name of agent ${other._id}` },
      ]);
  }

  /** The tenant's skill groups by id; 422 naming `skillGroupIds.<i>` for each unknown one. */
  private async skillGroups(tenantId: string, ids: string[]): Promise<string[]> {
    const found = new Set((await this.repo.skillGroupsById(tenantId, ids)).map((g) => g._id));
    const problems: FieldProblem[] = ids.flatMap((id, i) =>
      found.has(id) ? [] : [{ field: `skillGroupIds.${i}`, value: id, reason: 'the tenant has no such skill group' }],
    );
    if (problems.length) throw new ValidationFailed('unknown skill groups', problems);
    return ids;
  }

  private async overrideAllowed(tenantId: string): Promise<void> {
    if (!tenantSettingsOf(await this.repo.getSettings(tenantId)).allowAgentOverride)
      throw new Conflict('per-agent hotline settings are not allowed', [
        {
          field: 'hotlineSettings',
          reason:
            'the tenant does not allow per-agent hotline settings (允许个性化热线设置 is off: allowAgentOverride)',
        },
      ]);
  }

  // ---- CRUD ----

  async create(tenantId: string, dto: CreateAgentDto) {
    const loginName = this.loginName(dto.loginName, 'loginName');
    const phoneAddress = this.phoneAddress(dto.phoneAddress, 'phoneAddress');
    return withDocLock(agentsLock(tenantId), async () => {
      await this.loginFree(tenantId, loginName);
      const skillGroupIds = await this.skillGroups(tenantId, dto.skillGroupIds ?? []);
      if (dto.hotlineSettings) await this.overrideAllowed(tenantId);
      const now = new Date();
      const agent: AgentDoc = {
        _id: randomBytes(6).toString('hex'),
        tenantId,
        loginName,
        realName: dto.realName,
        displayName: dto.displayName,
        skillGroupIds,
        role: dto.role ?? 'AGENT',
        phoneAddress,
        freeze: null,
        lastUnfreeze: null,
        hotlineSettings: dto.hotlineSettings ? hotline(dto.hotlineSettings) : null,
        createdAt: now,
        updatedAt: now,
      };
      await this.storeWithPhones([agent], now);
      return this.view(agent);
    });
  }

  /** Push the agents' phones, then store them; all or nothing (pushed phones are removed again on a failure). */
  async storeWithPhones(agents: AgentDoc[], now: Date): Promise<void> {
    const pushed: string[] = [];
    const undo = async () => {
      for (const id of pushed) await this.asterisk.remove(id, `undo ${agentEndpoint(id)}`).catch(() => undefined);
    };
    try {
      for (const a of agents) {
        await this.asterisk.push({ agentId: a._id, phoneAddress: a.phoneAddress }, `create ${agentEndpoint(a._id)}`);
        pushed.push(a._id);
      }
      await this.repo.createAgents(agents, now);
    } catch (err) {
      await undo();
      throw err;
    }
  }

  async list(tenantId: string, filter: { skillGroupId?: string }, page: number, pageSize: number) {
    const { items, total } = await this.repo.listAgents(tenantId, filter, (page - 1) * pageSize, pageSize);
    const states = new Map(
      (
        await this.repo.statesOf(
          tenantId,
          items.map((a) => a._id),
        )
      ).map((s) => [s._id, s]),
    );
    const now = new Date();
    return { page, pageSize, total, items: items.map((a) => agentView(a, states.get(a._id), now)) };
  }

  async get(tenantId: string, id: string) {
    return this.view(await this.agentOr404(tenantId, id));
  }

  async update(tenantId: string, id: string, dto: UpdateAgentDto) {
    const set: Partial<AgentDoc> = {};
    if (dto.loginName !== undefined) set.loginName = this.loginName(dto.loginName, 'loginName');
    if (dto.realName !== undefined) set.realName = dto.realName;
    if (dto.displayName !== undefined) set.displayName = dto.displayName;
    if (dto.role !== undefined) set.role = dto.role;
    if (dto.phoneAddress !== undefined) set.phoneAddress = this.phoneAddress(dto.phoneAddress, 'phoneAddress');
    if (dto.hotlineSettings === null) set.hotlineSettings = null;
    else if (dto.hotlineSettings !== undefined) set.hotlineSettings = hotline(dto.hotlineSettings);
    if (dto.skillGroupIds !== undefined) set.skillGroupIds = dto.skillGroupIds;
    if (!Object.keys(set).length)
      throw new ValidationFailed('nothing to change', [
        {
          field: 'body',
          reason:
            'give at least one of loginName, realName, displayName, skillGroupIds, role, phoneAddress, hotlineSettings',
        },
      ]);
    return withDocLock(agentsLock(tenantId), async () => {
      const current = await this.agentOr404(tenantId, id);
      if (set.loginName !== undefined && set.loginName !== current.loginName)
        await this.loginFree(tenantId, set.loginName, id);
      if (set.skillGroupIds) {
        await this.skillGroups(tenantId, set.skillGroupIds);
        // An agent with no skill group cannot be online (seed §5.4): it must leave ONLINE first.
        const state = await this.repo.loadState(tenantId, id);
        if (!set.skillGroupIds.length && state.state === 'ONLINE')
          throw new Conflict('an online agent keeps at least one skill group', [
            { field: 'skillGroupIds', reason: 'the agent is online; change its state (下班 or 小休) first' },
          ]);
      }
      if (set.hotlineSettings) await this.overrideAllowed(tenantId);
      if (set.phoneAddress !== undefined && set.phoneAddress !== current.phoneAddress)
        await this.asterisk.push(
          { agentId: id, phoneAddress: set.phoneAddress },
          `update ${agentEndpoint(id)} (phoneAddress)`,
        );
      const updated = await this.repo.updateAgent(tenantId, id, set);
      if (!updated) throw new NotFound(`agent ${id}`);
      return this.view(updated);
    });
  }

  /** Delete the agent and its phone's endpoint; refused while a call holds it. Its state history stays. */
  async remove(tenantId: string, id: string): Promise<void> {
    await withDocLock(agentsLock(tenantId), async () => {
      await this.agentOr404(tenantId, id);
      const state = await this.repo.loadState(tenantId, id);
      if (state.reservation)
        throw new Conflict('the agent is on a call', [
          { field: 'id', value: state.reservation.callId, reason: 'a call holds the agent; delete it after the call' },
        ]);
      await this.asterisk.remove(id, `delete ${agentEndpoint(id)}`);
      await this.repo.deleteAgent(tenantId, id);
    });
  }

  // ---- freeze ----

  async freeze(tenantId: string, id: string, dto: FreezeAgentDto, p: Principal) {
    const now = new Date();
    const until = dto.until ? new Date(dto.until) : null;
    if (until && until.getTime() <= now.getTime())
      throw new ValidationFailed('the freeze would already be over', [
        { field: 'until', value: dto.until, reason: 'a temporary freeze ends in the future (omit it: permanent)' },
      ]);
    await this.agentOr404(tenantId, id);
    const updated = await this.repo.updateAgent(tenantId, id, { freeze: { reason: dto.reason, until, at: now } });
    if (!updated) throw new NotFound(`agent ${id}`);
    // Signed out at once unless a call holds it (then it finishes the call and cannot go online afterwards).
    const state = await this.repo.loadState(tenantId, id);
    if (['ONLINE', 'SHORT_BREAK', 'AFTER_CALL_WORK'].includes(state.state))
      await this.directory.setState(tenantId, id, 'SIGNED_OUT', { by: actor(p), note: `frozen: ${dto.reason}` });
    return this.view(updated);
  }

  async unfreeze(tenantId: string, id: string, dto: UnfreezeAgentDto) {
    const current = await this.agentOr404(tenantId, id);
    if (!isFrozen(current.freeze, new Date()))
      throw new Conflict('the agent is not frozen', [{ field: 'id', value: id, reason: 'not frozen' }]);
    const updated = await this.repo.updateAgent(tenantId, id, {
      freeze: null,
      lastUnfreeze: { ...(dto.reason ? { reason: dto.reason } : {}), at: new Date() },
    });
    if (!updated) throw new NotFound(`agent ${id}`);
    return this.view(updated);
  }

  // ---- states ----

  async state(tenantId: string, id: string) {
    const s = await this.directory.stateOf(tenantId, id);
    if (!s) throw new NotFound(`agent ${id}`);
    return s;
  }

  async changeState(tenantId: string, id: string, dto: ChangeAgentStateDto, p: Principal) {
    mayChangeStateOf(p, id);
    const change = await this.directory.setState(tenantId, id, dto.state, {
      ...(dto.reason ? { reason: dto.reason } : {}),
      by: actor(p),
    });
    if (!change.ok) throw refusal(change);
    return change.state;
  }

  /** The agent's state changes between `from` and `to` (default the last 24 hours), at most 31 days, oldest first. */
  async history(tenantId: string, id: string, q: { from?: string; to?: string }) {
    await this.agentOr404(tenantId, id);
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
    if (from.getTime() > to.getTime())
      throw new ValidationFailed('bad range', [{ field: 'from', value: q.from, reason: 'must not be after to' }]);
    if (to.getTime() - from.getTime() > HISTORY_MAX_DAYS * DAY_MS)
      throw new ValidationFailed('range too long', [
        { field: 'from', value: q.from, reason: `at most ${HISTORY_MAX_DAYS} days before to` },
      ]);
    const days: string[] = [];
    for (let t = Date.parse(historyDay(from)); t <= to.getTime(); t += DAY_MS) days.push(historyDay(new Date(t)));
    const items = (await this.repo.history(tenantId, id, days)).filter(
      (e) => e.at.getTime() >= from.getTime() && e.at.getTime() <= to.getTime(),
    );
    return { agentId: id, from, to, items };
  }

  // ---- hotline settings ----

  async settings(tenantId: string) {
    return tenantSettingsOf(await this.repo.getSettings(tenantId));
  }

  async updateSettings(tenantId: string, dto: UpdateHotlineSettingsDto) {
    if (!dto.autoAnswer && !dto.autoEndAfterCallWork && dto.allowAgentOverride === undefined)
      throw new ValidationFailed('nothing to change', [
        { field: 'body', reason: 'give at least one of autoAnswer, autoEndAfterCallWork, allowAgentOverride' },
      ]);
    // Read-modify-write of one document, kept together in this process (not the repository's own lock key).
    return withDocLock(`agent-settings-of/${tenantId}`, async () => {
      const current = await this.settings(tenantId);
      const doc = await this.repo.putSettings(tenantId, {
        ...current,
        ...hotline(dto),
        ...(dto.allowAgentOverride !== undefined ? { allowAgentOverride: dto.allowAgentOverride } : {}),
      });
      return tenantSettingsOf(doc);
    });
  }

  async effectiveSettings(tenantId: string, id: string) {
    const s = await this.directory.settingsOf(tenantId, id);
    if (!s) throw new NotFound(`agent ${id}`);
    return s;
  }
}
