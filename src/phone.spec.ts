import { maskPhone, maskPhonesIn, normalisePhone } from './phone';

describe('normalisePhone', () => {
  it.each([
    ['13800138000', '+8613800138000'],
    ['+86 138-0013-8000', '+8613800138000'],
    ['008613800138000', '+8613800138000'],
    ['010-12345678', '+861012345678'],
    ['0571 87654321', '+8657187654321'],
    ['+14155552671', '+14155552671'],
  ])('%s → %s', (raw, e164) => {
    expect(normalisePhone(raw)).toEqual({ ok: true, e164 });
  });

  it.each([[''], ['abc'], ['12345'], ['1380013800'], ['+999123456789']])('rejects %j', (raw) => {
    expect(normalisePhone(raw).ok).toBe(false);
  });
});

describe('masking', () => {
  it('keeps the head and the last four digits', () => {
    expect(maskPhone('+8613800138000')).toBe('+86138****8000');
  });

  it('masks standalone numbers in free text but leaves ids that contain digits', () => {
    expect(maskPhonesIn('dial +8613800138000 now')).toBe('dial +86138****8000 now');
    expect(maskPhonesIn('attempt a1b2c3d4e5f60718293a-0-1')).toBe('attempt a1b2c3d4e5f60718293a-0-1');
  });
});
