/**
 * skillGroupQueueWorkflow on the real Temporal time-skipping test server: queue timeouts and after-call work of
 * minutes run in seconds. Real: the server, the workflow code (bundled once for this file with the caller double of
 * skill-group-queue.workflows.ts), SDK workers. Test doubles: the queue's activities (`doubleQueueActivities`, typed by
 * the real factory so they cannot drift) over an in-memory table of agents; the calls are `queueCallerDouble`
 * workflows that speak the transfer's signal protocol. The real activities and calls run in
 * test/e2e/transfer*.e2e-spec.ts.
 */
import { Context } from '@temporalio/activity';
import type { WorkflowClient, WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  DEFAULT_TENANT_SETTINGS,
  effectiveSettings,
  type HotlineSettings,
  type TenantHotlineSettings,
} from '../../activities/agents/agent-states';
import type { createQueueActivities } from '../../activities/queue-activities';
import { queueWorkflowId } from '../../src/ids';
import { enqueueCallSignal } from '../../workflows/definitions';
import type { skillGroupQueueWorkflow } from '../../workflows/skill-group-queue';
import { servers, uniqueName } from '../support/servers';
import type { CallerDoubleInput, queueCallerDouble } from './skill-group-queue.workflows';

type QueueActs = ReturnType<typeof createQueueActivities>;

let env: TestWorkflowEnvironment;
let client: WorkflowClient;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: servers.temporalTestAddress });
  client = env.client.workflow;
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./skill-group-queue.workflows') });
}, 120_000);
afterAll(() => env?.teardown());

interface AgentDouble {
  id: string;
  state: 'ONLINE' | 'SHORT_BREAK' | 'AFTER_CALL_WORK' | 'SIGNED_OUT';
  /** Workflow-time order of idleness: lower = idle longer. */
  idleSince: number;
  reservedBy?: string;
  /** 自动结束后处理 seconds; null = off. */
  afterCallWorkSeconds: number | null;
  /** The agent's own hotline settings (used only while the tenant allows them). */
  hotline?: Partial<HotlineSettings>;
}

interface Call {
  name: keyof QueueActs;
  args: Record<string, unknown>;
  /** Server (workflow) time the activity was scheduled. */
  at: number;
}

/**
 * In-memory doubles of the queue activities: the agent directory's rules, minus MongoDB. `enqueueTransfer` is the
 * real one's signal-with-start.
 */
function doubleQueueActivities(
  agents: AgentDouble[],
  taskQueue: string,
  tenant: TenantHotlineSettings = DEFAULT_TENANT_SETTINGS,
) {
  const calls: Call[] = [];
  const log = (name: keyof QueueActs, args: Record<string, unknown>) =>
    calls.push({ name, args, at: Context.current().info.currentAttemptScheduledTimestampMs });
  const find = (id: string) => {
    const a = agents.find((x) => x.id === id);
    if (!a) throw new Error(`no agent ${id}`);
    return a;
  };
  const acts: QueueActs = {
    enqueueTransfer: async (req) => {
      const workflowId = queueWorkflowId(req.tenantId, req.skillGroupId);
      await client.signalWithStart<
        typeof skillGroupQueueWorkflow,
        [{ callId: string; contactWorkflowId: string; timeoutMs: number }]
      >('skillGroupQueueWorkflow', {
        workflowId,
        taskQueue,
        args: [{ tenantId: req.tenantId, skillGroupId: req.skillGroupId }],
        signal: enqueueCallSignal,
        signalArgs: [{ callId: req.callId, contactWorkflowId: req.contactWorkflowId, timeoutMs: req.timeoutMs }],
      });
      return workflowId;
    },
    reserveAgent: (req) => {
      log('reserveAgent', req);
      const free = agents
        .filter((a) => a.state === 'ONLINE' && !a.reservedBy && !req.exclude.includes(a.id))
        .sort((x, y) => x.idleSince - y.idleSince);
      const agent = free[0];
      if (!agent) return Promise.resolve(null);
      agent.reservedBy = req.callId;
      // The real rule of the agent's effective settings (activities/agents/agent-states), as settingsOf applies it.
      const { autoAnswerSeconds } = effectiveSettings(tenant, agent.hotline);
      return Promise.resolve({ agentId: agent.id, endpoint: `agent-${agent.id}`, autoAnswerSeconds });
    },
    agentMissed: (req) => {
      log('agentMissed', req);
      const a = find(req.agentId);
      a.state = 'SHORT_BREAK';
      delete a.reservedBy;
      return Promise.resolve();
    },
    withdrawOffer: (req) => {
      log('withdrawOffer', req);
      delete find(req.agentId).reservedBy;
      return Promise.resolve();
    },
    startAfterCallWork: (req) => {
      log('startAfterCallWork', req);
      const a = find(req.agentId);
      a.state = 'AFTER_CALL_WORK';
      delete a.reservedBy;
      return Promise.resolve(a.afterCallWorkSeconds);
    },
    endAfterCallWork: (req) => {
      log('endAfterCallWork', req);
      const a = find(req.agentId);
      a.state = 'ONLINE';
      a.idleSince = Date.now();
      return Promise.resolve();
    },
  };
  return { acts, calls };
}

/**
 * Run one queue and its callers to the end: the queue ends by itself once it has been idle for 10 minutes (skipped).
 * Caller i joins the queue i seconds (workflow time) after starting, so the first caller's call is the oldest. The
 * callers are started before the worker runs, so the time-skipping server never finds an idle gap between two starts
 * (it would jump its clock there).
 */
async function runQueue(
  agents: AgentDouble[],
  callers: Pick<CallerDoubleInput, 'timeoutMs' | 'answers' | 'talkMs' | 'phones'>[],
  tenant?: TenantHotlineSettings,
) {
  const taskQueue = uniqueName('queue-');
  const { acts, calls } = doubleQueueActivities(agents, taskQueue, tenant);
  const tenantId = 't1';
  const skillGroupId = uniqueName('sg');
  const qid = queueWorkflowId(tenantId, skillGroupId);
  const handles: WorkflowHandle<typeof queueCallerDouble>[] = [];
  for (const [i, c] of callers.entries())
    handles.push(
      await client.start<typeof queueCallerDouble>('queueCallerDouble', {
        workflowId: `${qid}/call-${i}`,
        taskQueue,
        args: [{ ...c, tenantId, skillGroupId, queueWorkflowId: qid, delayMs: i * 1000, callId: `call-${i}` }],
      }),
    );
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: acts,
  });
  const results = await worker.runUntil(async () => {
    const out = await Promise.all(handles.map((h) => h.result()));
    await client.getHandle(qid).result();
    return out;
  });
  return { results, calls };
}

const agent = (id: string, idleSince: number, afterCallWorkSeconds: number | null = 30): AgentDouble => ({
  id,
  state: 'ONLINE',
  idleSince,
  afterCallWorkSeconds,
});

describe('skillGroupQueueWorkflow', () => {
  it('ends after-call work after the agent’s seconds, and never when auto-end is off', async () => {
    const agents = [agent('a45', 1, 45), agent('aoff', 2, null)];
    const started = Date.now();
    const { results, calls } = await runQueue(agents, [
      { timeoutMs: 60_000, answers: [true], talkMs: 90_000 },
      { timeoutMs: 60_000, answers: [true], talkMs: 90_000 },
    ]);
    expect(results.map((r) => r.connected)).toEqual(['a45', 'aoff']);
    const acwStart = calls.find((c) => c.name === 'startAfterCallWork' && c.args.agentId === 'a45')!;
    const acwEnd = calls.filter((c) => c.name === 'endAfterCallWork');
    expect(acwEnd.map((c) => c.args.agentId)).toEqual(['a45']);
    // Counted from the moment the queue handled the call's end, a few ms before it scheduled startAfterCallWork.
    const lasted = acwEnd[0]!.at - acwStart.at;
    expect(lasted).toBeGreaterThanOrEqual(44_900);
    expect(lasted).toBeLessThan(47_000);
    expect(agents.find((a) => a.id === 'a45')!.state).toBe('ONLINE');
    // Auto-end off: 话后处理 lasts until the agent resumes (the queue leaves it alone).
    expect(agents.find((a) => a.id === 'aoff')!.state).toBe('AFTER_CALL_WORK');
    // Minutes of workflow time (talk, after-call work, the idle queue's 10 minutes) in seconds of real time.
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('tells a waiting call to give up at its queue timeout when no agent is free', async () => {
    const agents = [{ ...agent('away', 1), state: 'SIGNED_OUT' as const }];
    const { results, calls } = await runQueue(agents, [{ timeoutMs: 90_000, answers: [], talkMs: 0 }]);
    const [r] = results;
    expect(r!.offers).toEqual([]);
    expect(r!.timedOutAt).toBeDefined();
    const waited = r!.timedOutAt! - r!.enqueuedAt;
    expect(waited).toBeGreaterThanOrEqual(90_000);
    // The queue looks for agents every 2 s while the call waits, and gives up within one poll of the deadline.
    expect(waited).toBeLessThan(93_000);
    expect(calls.filter((c) => c.name === 'reserveAgent').length).toBeGreaterThan(10);
    expect(calls.some((c) => c.name === 'agentMissed')).toBe(false);
  });

  it('offers a missed call to the next agent and puts the agent who missed it on short break', async () => {
    const agents = [agent('first', 1), agent('second', 2), agent('third', 3)];
    const { results, calls } = await runQueue(agents, [{ timeoutMs: 120_000, answers: [false, true], talkMs: 5_000 }]);
    const [r] = results;
    expect(r!.offers.map((o) => o.agentId)).toEqual(['first', 'second']);
    expect(r!.connected).toBe('second');
    expect(calls.filter((c) => c.name === 'agentMissed').map((c) => c.args)).toEqual([
      expect.objectContaining({ agentId: 'first', callId: 'call-0' }),
    ]);
    expect(agents.find((a) => a.id === 'first')!.state).toBe('SHORT_BREAK');
    // The second offer excluded the agent who missed the call.
    const second = calls.filter((c) => c.name === 'reserveAgent' && c.args.callId === 'call-0')[1];
    expect(second?.args.exclude).toEqual(['first']);
    expect(agents.find((a) => a.id === 'third')!.reservedBy).toBeUndefined();
  });

  it('offers the oldest waiting call first, to the longest-idle agent, and one agent per call', async () => {
    // Idle longest: old (idle since 1), then mid, then fresh; three calls, two agents free at first.
    const agents = [agent('fresh', 30), agent('old', 10), agent('mid', 20, 0)];
    agents.find((a) => a.id === 'fresh')!.state = 'SHORT_BREAK';
    const { results } = await runQueue(agents, [
      { timeoutMs: 300_000, answers: [true], talkMs: 60_000 },
      { timeoutMs: 300_000, answers: [true], talkMs: 60_000 },
      { timeoutMs: 300_000, answers: [true], talkMs: 60_000 },
    ]);
    expect(results.map((r) => r.offers[0]?.agentId)).toEqual(['old', 'mid', 'mid']);
    // The third call waited until `mid` was free again (its after-call work ends at once), never sharing an agent.
    expect(results[2]!.offers[0]!.at).toBeGreaterThanOrEqual(results[1]!.offers[0]!.at + 60_000);
    expect(results.map((r) => r.connected)).toEqual(['old', 'mid', 'mid']);
  });

  describe('自动接听 (auto-answer)', () => {
    const RING_MS = 30_000;
    const off: Partial<HotlineSettings> = {
      autoAnswer: { enabled: false, seconds: 1 },
      autoEndAfterCallWork: { enabled: true, seconds: 30 },
    };

    it('by default (1 s) the phone answers a second after the offer; with it off, 30 s of ringing → next agent', async () => {
      const tenant = { ...DEFAULT_TENANT_SETTINGS, allowAgentOverride: true };
      // `manual` turned auto-answer off for itself (the tenant allows it) and is idle longest: it is offered first.
      const agents = [{ ...agent('manual', 1), hotline: off }, agent('auto', 2)];
      const { results, calls } = await runQueue(
        agents,
        [{ timeoutMs: 120_000, answers: [], talkMs: 5_000, phones: { ringMs: RING_MS } }],
        tenant,
      );
      const [r] = results;
      expect(r!.offers.map((o) => [o.agentId, o.autoAnswerSeconds])).toEqual([
        ['manual', null],
        ['auto', 1],
      ]);
      // The manual phone rang its 30 s (workflow time), then the queue offered the call on …
      const gap = r!.offers[1]!.at - r!.offers[0]!.at;
      expect(gap).toBeGreaterThanOrEqual(RING_MS);
      expect(gap).toBeLessThan(RING_MS + 2_000);
      expect(calls.filter((c) => c.name === 'agentMissed').map((c) => c.args.agentId)).toEqual(['manual']);
      expect(agents[0]!.state).toBe('SHORT_BREAK');
      // … and the auto-answering phone took it one second after it started ringing.
      expect(r!.connected).toBe('auto');
      expect(r!.answeredAt! - r!.offers[1]!.at).toBeGreaterThanOrEqual(1_000);
      expect(r!.answeredAt! - r!.offers[1]!.at).toBeLessThan(1_500);
    });

    it('an agent’s own setting counts only while the tenant allows per-agent settings', async () => {
      // Same agent settings, tenant default (allowAgentOverride false): the tenant's 1 s applies to everyone.
      const agents = [{ ...agent('manual', 1), hotline: off }, agent('auto', 2)];
      const { results, calls } = await runQueue(agents, [
        { timeoutMs: 120_000, answers: [], talkMs: 5_000, phones: { ringMs: RING_MS } },
      ]);
      const [r] = results;
      expect(r!.offers.map((o) => [o.agentId, o.autoAnswerSeconds])).toEqual([['manual', 1]]);
      expect(r!.connected).toBe('manual');
      expect(r!.answeredAt! - r!.offers[0]!.at).toBeGreaterThanOrEqual(1_000);
      expect(r!.answeredAt! - r!.offers[0]!.at).toBeLessThan(1_500);
      expect(calls.some((c) => c.name === 'agentMissed')).toBe(false);
    });

    it('a tenant auto-answer of 45 s is longer than the ring: the phone never answers by itself', async () => {
      const tenant = { ...DEFAULT_TENANT_SETTINGS, autoAnswer: { enabled: true, seconds: 45 } };
      const agents = [agent('slow', 1)];
      const { results } = await runQueue(
        agents,
        [{ timeoutMs: 60_000, answers: [], talkMs: 0, phones: { ringMs: RING_MS } }],
        tenant,
      );
      const [r] = results;
      expect(r!.offers.map((o) => [o.agentId, o.autoAnswerSeconds])).toEqual([['slow', 45]]);
      expect(r!.connected).toBeUndefined();
      expect(r!.timedOutAt).toBeDefined();
      expect(agents[0]!.state).toBe('SHORT_BREAK');
    });
  });
});
