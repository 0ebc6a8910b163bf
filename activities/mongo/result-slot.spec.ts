/** The compact result slot (contact_results `c.<slot>`): what is written reads back whole, and old slots still read. */
import { decodeResult, encodeResult } from './repositories';
import type { LastAttempt } from './schemas';

const taskId = 'T0abc123';
const at = (s: string) => new Date(`2026-11-27T08:00:${s}.000Z`);

describe('result slot encoding', () => {
  const plain: LastAttempt = {
    attemptId: `${taskId}-7-2`,
    attempt: 2,
    code: 'SUCCESS',
    label: '呼叫成功',
    hangupBy: 'ROBOT',
    startedAt: at('01'),
    answeredAt: at('04'),
    endedAt: at('30'),
    ringSeconds: 3,
    talkSeconds: 26,
  };

  it('leaves out what the slot already says (attempt id, the code’s label) and reads back the same attempt', () => {
    const json = encodeResult(plain, taskId, 7);
    expect(json).not.toMatch(/attemptId|呼叫成功|2026/);
    expect(json.length).toBeLessThan(JSON.stringify(plain).length / 2);
    expect(decodeResult(json, taskId, 7)).toEqual(plain);
  });

  it('keeps an attempt id or label that differs, no answer time, and the rarer fields', () => {
    const rich: LastAttempt = {
      ...plain,
      attemptId: 'other-7-2',
      label: '自定义',
      answeredAt: undefined,
      detail: '用户听完语音',
      tags: ['意向'],
      transfer: 'connected',
      transferSeconds: { robot: 10, queueWait: 4, human: 12 },
      agentId: 'a1',
      handovers: [{ at: at('20').toISOString(), fromAgentId: 'a1', to: 'agent', agentId: 'a2', by: 'agent' }],
      amd: 'HUMAN',
      amdCause: 'HUMAN-5-10',
    };
    delete rich.answeredAt;
    expect(decodeResult(encodeResult(rich, taskId, 7), taskId, 7)).toEqual(rich);
  });

  it('reads a slot written by an earlier version (the whole object, ISO times)', () => {
    const old = JSON.stringify({ ...plain, label: '旧标签' });
    expect(decodeResult(old, taskId, 7)).toEqual({ ...plain, label: '旧标签' });
  });
});
