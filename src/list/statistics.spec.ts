import { computeStatistics } from './statistics';

describe(computeStatistics.name, () => {
  it('computes dialled/total, connect rate, talk time, redials and the donut from counters', () => {
    const s = computeStatistics(
      10,
      {
        attempts: 7,
        answered: 2,
        talkSeconds: 13,
        dialled: 5,
        byResult: { SUCCESS: 2, BUSY: 3, NO_ANSWER: 1, CALL_LOSS: 1 },
        latest: { SUCCESS: 2, BUSY: 1, NO_ANSWER: 1, CALL_LOSS: 1 },
      },
      1,
    );
    expect(s).toMatchObject({
      total: 10,
      dialled: 5,
      answered: 2,
      connectRate: 0.4,
      averageTalkSeconds: 6.5,
      attempts: 7,
      redials: 2,
      doNotCall: 1,
      categories: { 未开始: 5, 已经接通: 2, 号码问题: 2, 线路问题: 1 },
    });
    expect(s.results).toHaveLength(10);
    expect(s.results[1]).toEqual({ code: 'BUSY', label: '用户占线', attempts: 3, contacts: 1 });
  });

  it('is all zeros before the first call, and falls back to per-attempt counts for old tasks', () => {
    expect(computeStatistics(3, { attempts: 0, answered: 0, talkSeconds: 0, byResult: {} })).toMatchObject({
      dialled: 0,
      connectRate: 0,
      averageTalkSeconds: 0,
      categories: { 未开始: 3, 已经接通: 0, 号码问题: 0, 线路问题: 0 },
    });
    expect(computeStatistics(3, { attempts: 1, answered: 1, talkSeconds: 4, byResult: { SUCCESS: 1 } })).toMatchObject({
      dialled: 1,
      connectRate: 1,
      categories: { 未开始: 2, 已经接通: 1 },
    });
  });
});
