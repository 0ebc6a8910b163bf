/**
 * In-call controls (seed §5.3: 保持 hold, 转接 transfer, 挂断 hang up; issue #8 item 4) of a transferred call while a
 * human has it. Each command is the `callControl` update of the call's contact workflow (workflows/transfer.ts, the
 * connected phase), which validates it against the call's phase and answers with the resulting state; a refusal is
 * a 409 naming the reason.
 *
 * Who may command which call:
 * - an agent (key `agent@<agentId>`): only the call its own state document is reserved by, and only while the
 *   workflow says that agent is the one connected (the update checks it again, atomically with the command);
 * - a supervisor (or admin): any call of its tenant — the call id's task must be the tenant's, else 404.
 *
 * A transfer to an agent reserves that agent here, through the agent directory's compare-and-set (online, idle, not
 * frozen, with a skill group — else 409 with the directory's reason), before the update hands the reservation to
 * the workflow, which rings the agent; a refused or failed update gives the reservation back.
 */
import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import {
  QueryNotRegisteredError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { AgentDirectory } from '../../activities/agents/agent-directory';
import type { Logger } from '../../activities/logger';
import type { Repositories } from '../../activities/mongo/connection';
import { DomainError, NotFound, ValidationFailed } from '../../src/errors';
import { contactWorkflowId } from '../../src/ids';
import { maskPhone, normalisePhone } from '../../src/phone';
import {
  callControlQuery,
  callControlUpdate,
  type CallControlCommand,
  type CallControlRequest,
  type CallControlState,
} from '../../workflows/definitions';
import { parseAttemptId } from '../agents/agent-view.service';
import { AGENT_DIRECTORY } from '../agents/tokens';
import { LOGGER, REPOSITORIES, TEMPORAL } from '../common/tokens';
import type { TransferCallDto } from './call-control.dto';

/** Who gives a command: an agent for its own call, or a supervisor / admin of the tenant. */
export type Commander = { kind: 'agent'; agentId: string } | { kind: 'supervisor'; role: string; fullNumbers: boolean };

export type SimpleCommand = 'hold' | 'resume' | 'hangup';

@Injectable()
export class CallControlService {
  constructor(
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(AGENT_DIRECTORY) private readonly directory: AgentDirectory,
    @Inject(TEMPORAL) private readonly temporal: Client,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The call the agent is reserved by now (offered or connected); 409 when it has none. */
  async agentCall(tenantId: string, agentId: string): Promise<string> {
    const state = await this.directory.stateOf(tenantId, agentId);
    if (!state) throw new NotFound(`agent ${agentId}`);
    const callId = state.reservation?.callId;
    if (!callId) throw new DomainError('the agent is not in a call', 409, [{ field: 'call', reason: 'no call' }]);
    return callId;
  }

  /** The call's control state (409 while it is not with a human, or after it ended). */
  async state(tenantId: string, attemptId: string, who: Commander) {
    const handle = await this.handleOf(tenantId, attemptId);
    const state = await this.current(handle, attemptId, who);
    return this.view(state, who);
  }

  async simple(tenantId: string, attemptId: string, command: SimpleCommand, who: Commander) {
    const handle = await this.handleOf(tenantId, attemptId);
    await this.current(handle, attemptId, who);
    return this.view(await this.send(handle, { kind: command }, who), who);
  }

  /** 转接: to an agent (reserved here first), a skill group's queue, or an external number. */
  async transfer(tenantId: string, attemptId: string, dto: TransferCallDto, who: Commander) {
    const given = (['agentId', 'skillGroupId', 'number'] as const).filter((k) => dto[k] !== undefined);
    if (given.length !== 1)
      throw new ValidationFailed(
        'give exactly one transfer target: agentId, skillGroupId or number',
        (given.length ? given : (['agentId', 'skillGroupId', 'number'] as const)).map((field) => ({
          field,
          reason: 'exactly one of agentId, skillGroupId, number',
        })),
      );
    const handle = await this.handleOf(tenantId, attemptId);
    const current = await this.current(handle, attemptId, who);

    if (dto.number !== undefined) {
      const checked = normalisePhone(dto.number);
      if (!checked.ok || checked.e164 !== dto.number)
        throw new ValidationFailed(`number: ${checked.ok ? 'not in E.164 form' : checked.reason}`, [
          { field: 'number', value: maskPhone(dto.number), reason: checked.ok ? 'not in E.164 form' : checked.reason },
        ]);
      return this.view(await this.send(handle, { kind: 'transferToNumber', number: checked.e164 }, who), who);
    }

    if (dto.skillGroupId !== undefined) {
      const [group] = await this.repos.agents.skillGroupsById(tenantId, [dto.skillGroupId]);
      if (!group)
        throw new DomainError(`skill group ${dto.skillGroupId} not found`, 404, [
          { field: 'skillGroupId', value: dto.skillGroupId, reason: 'no such skill group in this tenant' },
        ]);
      return this.view(await this.send(handle, { kind: 'transferToSkillGroup', skillGroupId: group._id }, who), who);
    }

    const agentId = dto.agentId!;
    const target = await this.directory.stateOf(tenantId, agentId);
    if (!target)
      throw new DomainError(`agent ${agentId} not found`, 404, [
        { field: 'agentId', value: agentId, reason: 'no such agent in this tenant' },
      ]);
    if (current.agentId === agentId || target.reservation?.callId === attemptId)
      throw this.refused('agentId', agentId, 'the call is already connected with this agent');
    const reserved = await this.directory.reserve(tenantId, agentId, attemptId);
    if (!reserved.ok) {
      const why: Record<typeof reserved.code, string> = {
        notFound: 'no such agent in this tenant',
        frozen: 'the agent is frozen',
        noSkillGroup: 'the agent has no skill group',
        notOnline: `the agent is not online (${target.state} ${target.label})`,
        reserved: 'the agent is busy with another call',
      };
      throw this.refused(
        'agentId',
        agentId,
        `cannot transfer to agent ${agentId}: ${why[reserved.code]}`,
        reserved.code,
      );
    }
    const settings = await this.directory.settingsOf(tenantId, agentId);
    try {
      const state = await this.send(
        handle,
        {
          kind: 'transferToAgent',
          agent: {
            agentId,
            endpoint: reserved.agent.endpoint,
            autoAnswerSeconds: settings?.autoAnswerSeconds ?? null,
          },
        },
        who,
      );
      return this.view(state, who);
    } catch (err) {
      // Refused, or unknown (the workflow service failed): give the reservation back unless the workflow took it.
      if (err instanceof DomainError || !(await this.tookAgent(handle, agentId)))
        await this.directory.unreserve(tenantId, agentId, attemptId);
      throw err;
    }
  }

  /** Whether the call's workflow went on to the agent (its last hand-over names it); unknown counts as yes. */
  private async tookAgent(handle: WorkflowHandle, agentId: string): Promise<boolean> {
    try {
      const state = await handle.query(callControlQuery);
      const last = state.handovers[state.handovers.length - 1];
      return state.agentId === agentId || (last?.to === 'agent' && last.agentId === agentId);
    } catch {
      return true;
    }
  }

  /** The contact workflow of a call of the tenant (404 for a call id that is not one of the tenant's tasks'). */
  private async handleOf(tenantId: string, attemptId: string): Promise<WorkflowHandle> {
    const ids = parseAttemptId(attemptId);
    if (!ids || !(await this.repos.tasks.get(tenantId, ids.taskId))) throw new NotFound(`call ${attemptId}`);
    return this.temporal.workflow.getHandle(contactWorkflowId(ids.taskId, ids.contactIndex));
  }

  /** The call's state from its workflow; 409 unless a human has this very call now (and, for an agent, that agent). */
  private async current(handle: WorkflowHandle, attemptId: string, who: Commander): Promise<CallControlState> {
    let state: CallControlState;
    try {
      state = await handle.query(callControlQuery);
    } catch (err) {
      // No such workflow, or it has not reached an agent yet (the query is registered when the agent answers).
      if (err instanceof WorkflowNotFoundError || err instanceof QueryNotRegisteredError) throw this.notConnected();
      this.logger.error({ err, attemptId }, 'call control state query failed');
      throw new ServiceUnavailableException('the workflow service is unavailable; retry');
    }
    if (state.callId !== attemptId || state.phase === 'ended') throw this.notConnected();
    if (who.kind === 'agent' && state.agentId !== who.agentId)
      throw new DomainError('the call is not connected with this agent now', 409, [
        { field: 'call', value: attemptId, reason: `phase ${state.phase}` },
      ]);
    return state;
  }

  private async send(handle: WorkflowHandle, command: CallControlCommand, who: Commander): Promise<CallControlState> {
    const req: CallControlRequest =
      who.kind === 'agent' ? { command, by: 'agent', agentId: who.agentId } : { command, by: who.role };
    try {
      return await handle.executeUpdate(callControlUpdate, { args: [req] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw this.refused('command', command.kind, `the call refused: ${err.cause?.message ?? err.message}`);
      if (err instanceof WorkflowNotFoundError) throw this.notConnected();
      this.logger.error({ err, command: command.kind }, 'call control update failed');
      throw new ServiceUnavailableException('the workflow service is unavailable; retry');
    }
  }

  private notConnected(): DomainError {
    return new DomainError('the call is not connected with a person now (not transferred yet, or ended)', 409, [
      { field: 'call', reason: 'not connected' },
    ]);
  }

  private refused(field: string, value: string, message: string, code?: string): DomainError {
    return new DomainError(message, 409, [{ field, value, reason: code ?? message }]);
  }

  private view(state: CallControlState, who: Commander) {
    const full = who.kind === 'agent' || who.fullNumbers;
    const number = (n: string | undefined | null) => (n && !full ? maskPhone(n) : n);
    return {
      attemptId: state.callId,
      phase: state.phase,
      agentId: state.agentId,
      number: number(state.number) ?? null,
      skillGroupId: state.skillGroupId,
      handovers: state.handovers.map((h) => ({ ...h, ...(h.number ? { number: number(h.number)! } : {}) })),
    };
  }
}
