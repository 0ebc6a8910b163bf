/**
 * The transfer queue's activities (campaign task queue; MongoDB and the Temporal client only): joining a skill
 * group's queue, and every change of an agent's state the queue decides — reserving the longest-idle agent for a
 * call, a missed offer (小休), after-call work (话后处理) and its end. The agent directory
 * (activities/agents/agent-directory) does each change as one atomic write; refusals come back as values.
 */
import type { Client } from '@temporalio/client';
import { queueWorkflowId } from '../src/ids';
import type { AgentDirectory } from './agents/agent-directory';
import type { Logger } from './logger';
import { enqueueCallSignal, type AgentOffer } from '../workflows/definitions';

export interface QueueActivityDeps {
  agents: AgentDirectory;
  temporal: Client;
  /** The task queue the queue workflows run on (the campaign queue). */
  taskQueue: string;
  logger: Logger;
}

export function createQueueActivities({ agents, temporal, taskQueue, logger }: QueueActivityDeps) {
  return {
    /** Join the skill group's queue, starting its workflow if no transfer is waiting there now. */
    async enqueueTransfer(req: {
      tenantId: string;
      skillGroupId: string;
      callId: string;
      contactWorkflowId: string;
      timeoutMs: number;
    }): Promise<string> {
      const workflowId = queueWorkflowId(req.tenantId, req.skillGroupId);
      await temporal.workflow.signalWithStart('skillGroupQueueWorkflow', {
        workflowId,
        taskQueue,
        args: [{ tenantId: req.tenantId, skillGroupId: req.skillGroupId }],
        signal: enqueueCallSignal,
        signalArgs: [{ callId: req.callId, contactWorkflowId: req.contactWorkflowId, timeoutMs: req.timeoutMs }],
      });
      return workflowId;
    },

    /**
     * Reserve the longest-idle online agent of the group for the call (skipping the agents it already missed), or
     * null if none is free. A reservation is a compare-and-set: an agent another transfer took in between is skipped.
     */
    async reserveAgent(req: {
      tenantId: string;
      skillGroupId: string;
      callId: string;
      exclude: string[];
    }): Promise<AgentOffer | null> {
      for (const agent of await agents.onlineAgents(req.tenantId, req.skillGroupId)) {
        if (req.exclude.includes(agent.agentId)) continue;
        const r = await agents.reserve(req.tenantId, agent.agentId, req.callId);
        if (!r.ok) continue;
        const settings = await agents.settingsOf(req.tenantId, agent.agentId);
        logger.info({ agentId: agent.agentId, callId: req.callId }, 'agent reserved for a transfer');
        return {
          agentId: agent.agentId,
          endpoint: agent.endpoint,
          autoAnswerSeconds: settings?.autoAnswerSeconds ?? null,
        };
      }
      return null;
    },

    /** The agent's phone rang unanswered or rejected the call: short break (agents cannot refuse calls). */
    async agentMissed(req: { tenantId: string; agentId: string; callId: string }): Promise<void> {
      const r = await agents.setState(req.tenantId, req.agentId, 'SHORT_BREAK', {
        reason: 'missedCall',
        by: 'queue',
        callId: req.callId,
      });
      if (!r.ok) logger.warn({ agentId: req.agentId, code: r.code }, 'missed-call break refused');
    },

    /** The call no longer wants the agent (the callee hung up before the agent answered). */
    async withdrawOffer(req: { tenantId: string; agentId: string; callId: string }): Promise<void> {
      await agents.unreserve(req.tenantId, req.agentId, req.callId);
    },

    /** The transferred call ended: 话后处理. Returns how long it lasts by itself (null = until the agent resumes). */
    async startAfterCallWork(req: { tenantId: string; agentId: string; callId: string }): Promise<number | null> {
      const r = await agents.setState(req.tenantId, req.agentId, 'AFTER_CALL_WORK', {
        by: 'queue',
        callId: req.callId,
      });
      if (!r.ok) {
        logger.warn({ agentId: req.agentId, code: r.code }, 'after-call work refused');
        return null;
      }
      return (await agents.settingsOf(req.tenantId, req.agentId))?.afterCallWorkSeconds ?? null;
    },

    /** After-call work timed out: the agent is online again (refused, and ignored, if the agent moved on). */
    async endAfterCallWork(req: { tenantId: string; agentId: string }): Promise<void> {
      await agents.setState(req.tenantId, req.agentId, 'ONLINE', { by: 'queue' });
    },
  };
}
