import type { AttemptOutcome } from '../workflows/definitions';
import { withTransferTimes } from './media-activities';

const call = (o: Partial<AttemptOutcome>): AttemptOutcome => ({
  attemptId: 't-0-1',
  attempt: 1,
  code: 'SUCCESS',
  label: '呼叫成功',
  hangupBy: 'AGENT',
  startedAt: '2026-11-27T10:00:00.000Z',
  answeredAt: '2026-11-27T10:00:02.000Z',
  endedAt: '2026-11-27T10:01:00.000Z',
  ringSeconds: 2,
  talkSeconds: 58,
  dtmf: [],
  ...o,
});

describe('a transfer’s share of the call', () => {
  it('splits the talk time into robot time, queue wait and human time', () => {
    const t = withTransferTimes(
      {
        kind: 'connected',
        skillGroupId: 'sg',
        agentId: 'a1',
        endedBy: 'AGENT',
        startedAt: '2026-11-27T10:00:20.000Z',
        connectedAt: '2026-11-27T10:00:32.500Z',
      },
      call({}),
    );
    expect(t).toMatchObject({ robotSeconds: 18, queueWaitSeconds: 12.5, humanSeconds: 27.5 });
    expect(t.robotSeconds! + t.queueWaitSeconds! + t.humanSeconds!).toBe(58);
  });

  it('a call nobody took waited until its end and had no human time', () => {
    const t = withTransferTimes(
      { kind: 'timeout', skillGroupId: 'sg', startedAt: '2026-11-27T10:00:20.000Z' },
      call({}),
    );
    expect(t).toMatchObject({ robotSeconds: 18, queueWaitSeconds: 40 });
    expect(t.humanSeconds).toBeUndefined();
  });

  it('back to the robot after the queue timeout: the wait ends there and the robot’s time runs on to the end', () => {
    const t = withTransferTimes(
      {
        kind: 'timeout',
        skillGroupId: 'sg',
        startedAt: '2026-11-27T10:00:20.000Z',
        backToRobotAt: '2026-11-27T10:00:35.000Z',
      },
      call({}),
    );
    expect(t).toMatchObject({ robotSeconds: 43, queueWaitSeconds: 15 });
    expect(t.robotSeconds! + t.queueWaitSeconds!).toBe(58);
  });
});
