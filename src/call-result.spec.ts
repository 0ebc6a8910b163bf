import { CALL_RESULT_LABELS, categoryOf, classifyCall, UNANSWERED_CAUSE_TABLE } from './call-result';

describe('classifyCall', () => {
  it.each([
    [17, 'BUSY', '用户占线', 'SYSTEM'],
    [19, 'NO_ANSWER', '无应答', 'SYSTEM'],
    [18, 'NO_ANSWER', '无应答', 'SYSTEM'],
    [21, 'REJECTED', '用户无法接通(拒绝)', 'USER'],
    [20, 'POWERED_OFF', '关机', 'SYSTEM'],
    [27, 'OUT_OF_SERVICE', '用户无法接通(不在服务区)', 'SYSTEM'],
    [1, 'EMPTY_NUMBER', '空号', 'SYSTEM'],
    [57, 'SUSPENDED', '停机', 'SYSTEM'],
    [34, 'CALL_LOSS', '呼损', 'SYSTEM'],
    [38, 'CALL_LOSS', '呼损', 'SYSTEM'],
    [16, 'OTHER', '其他(无法识别)', 'SYSTEM'],
    [127, 'OTHER', '其他(无法识别)', 'SYSTEM'],
  ])('maps unanswered cause %i to %s', (cause, code, label, hangupBy) => {
    expect(classifyCall({ answered: false, cause, hungUpByUs: false })).toMatchObject({ code, label, hangupBy });
  });

  it('an answered call is 呼叫成功 whatever its cause; the side that hung up first is recorded', () => {
    expect(classifyCall({ answered: true, cause: 16, hungUpByUs: true })).toMatchObject({
      code: 'SUCCESS',
      hangupBy: 'ROBOT',
    });
    expect(classifyCall({ answered: true, cause: 0, hungUpByUs: false })).toMatchObject({
      code: 'SUCCESS',
      hangupBy: 'USER',
    });
  });

  it('a failed originate or a lost channel is 呼损 by the system', () => {
    expect(classifyCall({ answered: false, hungUpByUs: false, systemFailure: true })).toMatchObject({
      code: 'CALL_LOSS',
      hangupBy: 'SYSTEM',
    });
  });

  it('every code in the cause table has a seed label', () => {
    for (const code of Object.values(UNANSWERED_CAUSE_TABLE)) expect(CALL_RESULT_LABELS[code]).toBeDefined();
    expect(Object.values(CALL_RESULT_LABELS)).toHaveLength(10);
  });
});

describe('categoryOf', () => {
  it('maps results to the four donut categories', () => {
    expect(categoryOf(undefined)).toBe('未开始');
    expect(categoryOf('SUCCESS')).toBe('已经接通');
    expect(categoryOf('BUSY')).toBe('号码问题');
    expect(categoryOf('EMPTY_NUMBER')).toBe('号码问题');
    expect(categoryOf('CALL_LOSS')).toBe('线路问题');
    expect(categoryOf('OTHER')).toBe('线路问题');
  });
});
