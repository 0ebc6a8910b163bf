import { DateTime } from 'luxon';
import { checkCap, pruneCounts, type FrequencyCap } from './frequency-cap';

const cap: FrequencyCap = { perDay: 2, perWeek: 3, timezone: 'Asia/Shanghai' };
const at = (iso: string) => DateTime.fromISO(iso, { zone: 'Asia/Shanghai' }).toMillis();

describe('checkCap', () => {
  it('allows calls under both caps', () => {
    expect(checkCap(cap, { '2026-11-27': 1 }, at('2026-11-27T10:00'))).toEqual({ allowed: true, day: '2026-11-27' });
  });

  it('defers a number at its daily cap to the next local midnight', () => {
    const d = checkCap(cap, { '2026-11-27': 2 }, at('2026-11-27T10:00'));
    expect(d).toEqual({ allowed: false, day: '2026-11-27', retryAt: at('2026-11-28T00:00') });
  });

  it('defers a number at its weekly cap until the oldest call leaves the 7-day window', () => {
    // 3 calls this week: on the 21st, 25th and 26th. The 21st leaves the window on the 28th.
    const counts = { '2026-11-21': 1, '2026-11-25': 1, '2026-11-26': 1 };
    const d = checkCap(cap, counts, at('2026-11-27T10:00'));
    expect(d).toEqual({ allowed: false, day: '2026-11-27', retryAt: at('2026-11-28T00:00') });
    const later = checkCap(cap, { '2026-11-25': 2, '2026-11-26': 1 }, at('2026-11-27T10:00'));
    expect(later).toMatchObject({ allowed: false, retryAt: at('2026-12-02T00:00') });
  });

  it('counts days in the tenant’s zone, not UTC', () => {
    // 23:30 UTC on the 26th is already the 27th in Shanghai.
    const utcLate = DateTime.fromISO('2026-11-26T23:30', { zone: 'UTC' }).toMillis();
    expect(checkCap(cap, { '2026-11-27': 2 }, utcLate)).toMatchObject({ allowed: false, day: '2026-11-27' });
  });

  it('0 means no cap', () => {
    expect(checkCap({ ...cap, perDay: 0, perWeek: 0 }, { '2026-11-27': 99 }, at('2026-11-27T10:00')).allowed).toBe(
      true,
    );
  });
});

describe('pruneCounts', () => {
  it('keeps the seven days of the weekly window', () => {
    const counts = { '2026-11-20': 1, '2026-11-21': 1, '2026-11-27': 1 };
    expect(pruneCounts(counts, cap, at('2026-11-27T10:00'))).toEqual({ '2026-11-21': 1, '2026-11-27': 1 });
  });
});
