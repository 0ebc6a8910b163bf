/**
 * The agent role's pure parts: API keys bound to an agent (`agent@<agentId>` in API_KEYS, config/config.ts) next to
 * the existing keys, whose state a caller may change (agents.service.ts), and which calls an agent's history makes its
 * own (agent-view.service.ts). The routes themselves run against real servers in test/e2e/transfer-agents.e2e-spec.ts
 * and test/integration/agents.spec.ts.
 */
import { ForbiddenException } from '@nestjs/common';
import { loadConfig } from '../../config/config';
import type { StateHistoryEntry } from '../../activities/mongo/agent-repository';
import type { AgentStateView } from '../../activities/agents/agent-directory';
import { callsOfAgent, parseAttemptId } from './agent-view.service';
import { mayChangeStateOf } from './agents.service';

const KEY = 'aaaaaaaaaaaaaaaa';

describe('API keys with the agent role', () => {
  it('binds an agent@<agentId> key to its agent, and keeps the other keys as they were', () => {
    const keys = loadConfig({
      API_KEYS: `${KEY}:t1:manager|auditor,${KEY}b:t1:agent@3f9c0a7d1e2b,${KEY}c:t1:agent@a_1|auditor`,
    }).api.keys;
    expect(keys).toEqual([
      { key: KEY, tenantId: 't1', roles: ['manager', 'auditor'] },
      { key: `${KEY}b`, tenantId: 't1', roles: ['agent'], agentId: '3f9c0a7d1e2b' },
      { key: `${KEY}c`, tenantId: 't1', roles: ['agent', 'auditor'], agentId: 'a_1' },
    ]);
  });

  it.each([
    ['a bare agent role (which agent?)', `${KEY}:t1:agent`],
    ['two agents on one key', `${KEY}:t1:agent@a1|agent@a2`],
    ['a bad agent id', `${KEY}:t1:agent@a b`],
    ['an empty agent id', `${KEY}:t1:agent@`],
    ['an unknown role', `${KEY}:t1:root`],
  ])('refuses %s, naming API_KEYS and not the key', (_what, API_KEYS) => {
    expect(() => loadConfig({ API_KEYS })).toThrow(/API_KEYS: .*agent@<agentId>/);
    expect(() => loadConfig({ API_KEYS })).not.toThrow(new RegExp(KEY));
  });
});

describe('mayChangeStateOf', () => {
  it('lets supervisors and admins change any agent, an agent key only its own agent', () => {
    expect(() => mayChangeStateOf({ tenantId: 't1', roles: ['supervisor'] }, 'a1')).not.toThrow();
    expect(() => mayChangeStateOf({ tenantId: 't1', roles: ['admin'] }, 'a1')).not.toThrow();
    expect(() => mayChangeStateOf({ tenantId: 't1', roles: ['agent'], agentId: 'a1' }, 'a1')).not.toThrow();
    // An agent key that also holds the supervisor role acts as a supervisor.
    expect(() =>
      mayChangeStateOf({ tenantId: 't1', roles: ['agent', 'supervisor'], agentId: 'a1' }, 'a2'),
    ).not.toThrow();
  });

  it.each([
    ['another agent’s id', { tenantId: 't1', roles: ['agent'], agentId: 'a1' }],
    ['an agent key with another read role', { tenantId: 't1', roles: ['agent', 'auditor'], agentId: 'a1' }],
    ['a key bound to no agent', { tenantId: 't1', roles: ['manager'] }],
  ] as const)('refuses %s with 403 naming the id', (_what, p) => {
    let err: unknown;
    try {
      mayChangeStateOf(p, 'a2');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ForbiddenException);
    expect((err as ForbiddenException).getResponse()).toMatchObject({
      errors: [expect.objectContaining({ field: 'id', value: 'a2' })],
    });
  });
});

describe('callsOfAgent', () => {
  const at = (s: number) => new Date(Date.UTC(2030, 0, 1, 9, 0, s));
  const entry = (e: Partial<StateHistoryEntry> & Pick<StateHistoryEntry, 'to'>): StateHistoryEntry => ({
    at: at(0),
    from: 'ONLINE',
    by: 'queue',
    ...e,
  });
  const state = (callId?: string): AgentStateView => ({
    agentId: 'a1',
    state: 'ONLINE',
    label: '在线',
    reason: null,
    since: at(0),
    idleSince: at(0),
    reservation: callId ? { callId, at: at(50) } : null,
  });

  it('takes handled calls from after-call work, missed ones from missed-call breaks, and the reservation', () => {
    const calls = callsOfAgent(
      [
        entry({ at: at(1), to: 'SHORT_BREAK', reason: 'missedCall', callId: 'tsk001-0-1' }),
        entry({ at: at(2), from: 'SHORT_BREAK', to: 'ONLINE', by: 'agent' }),
        entry({ at: at(10), to: 'AFTER_CALL_WORK', callId: 'tsk001-1-1' }),
        // A supervisor's break is no call, even with a reason.
        entry({ at: at(20), to: 'SHORT_BREAK', reason: 'rest', by: 'supervisor' }),
      ],
      state('tsk001-2-1'),
    );
    expect(calls.map((c) => [c.attemptId, c.kind])).toEqual([
      ['tsk001-2-1', 'current'],
      ['tsk001-1-1', 'handled'],
      ['tsk001-0-1', 'missed'],
    ]);
  });

  it('lists a call once: handled wins over a miss of the same call', () => {
    const calls = callsOfAgent(
      [
        entry({ at: at(1), to: 'SHORT_BREAK', reason: 'missedCall', callId: 'tsk001-0-1' }),
        entry({ at: at(9), to: 'AFTER_CALL_WORK', callId: 'tsk001-0-1' }),
      ],
      state('tsk001-0-1'),
    );
    expect(calls).toEqual([{ attemptId: 'tsk001-0-1', kind: 'handled', at: at(9) }]);
  });
});

describe('parseAttemptId', () => {
  it('splits <taskId>-<contactIndex>-<attempt> and refuses anything else', () => {
    expect(parseAttemptId('k3x9q2m7a1-12-2')).toEqual({ taskId: 'k3x9q2m7a1', contactIndex: 12, attempt: 2 });
    expect(parseAttemptId('k3x9q2m7a1-12')).toBeNull();
    expect(parseAttemptId('../x-1-1')).toBeNull();
  });
});
