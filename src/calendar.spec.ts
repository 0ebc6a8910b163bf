import { DateTime } from 'luxon';
import { closedReason, isOpenAt, nextOpening, openSegments, type CallingCalendar } from './calendar';

const shanghai: CallingCalendar = {
  timezone: 'Asia/Shanghai',
  workingDays: [1, 2, 3, 4, 5],
  windows: [
    { start: '08:00', end: '12:30' },
    { start: '13:00', end: '22:00' },
  ],
  blocked: [
    { start: '12:00', end: '14:00' },
    { start: '21:00', end: '09:00' },
  ],
};
const at = (iso: string, zone = 'Asia/Shanghai') => DateTime.fromISO(iso, { zone }).toMillis();
const local = (ms: number, zone = 'Asia/Shanghai') =>
  DateTime.fromMillis(ms, { zone }).toFormat("ccc yyyy-MM-dd'T'HH:mm");

describe('openSegments', () => {
  it('subtracts blocked hours, including a period that wraps midnight', () => {
    expect(openSegments(shanghai)).toEqual([
      [9 * 60, 12 * 60],
      [14 * 60, 21 * 60],
    ]);
  });

  it('is empty when every window lies inside blocked hours', () => {
    expect(openSegments({ windows: [{ start: '22:00', end: '23:30' }], blocked: shanghai.blocked })).toEqual([]);
  });
});

describe('nextOpening', () => {
  it('returns now when now is open, with the end of the open interval', () => {
    const now = at('2026-11-27T10:15'); // a Friday
    expect(nextOpening(shanghai, now)).toEqual({ start: now, end: at('2026-11-27T12:00') });
    expect(isOpenAt(shanghai, now)).toBe(true);
  });

  it('skips the lunch block and the night block', () => {
    expect(local(nextOpening(shanghai, at('2026-11-27T12:00'))!.start)).toBe('Fri 2026-11-27T14:00');
    expect(local(nextOpening(shanghai, at('2026-11-26T21:00'))!.start)).toBe('Fri 2026-11-27T09:00');
  });

  it('treats the end of a window as closed (half-open intervals)', () => {
    expect(isOpenAt(shanghai, at('2026-11-27T12:00'))).toBe(false);
    expect(isOpenAt(shanghai, at('2026-11-27T11:59:59.999'))).toBe(true);
  });

  it('skips weekends and holidays', () => {
    expect(local(nextOpening(shanghai, at('2026-11-27T21:30'))!.start)).toBe('Mon 2026-11-30T09:00');
    const withHoliday = { ...shanghai, holidays: ['2026-11-30'] };
    expect(local(nextOpening(withHoliday, at('2026-11-27T21:30'))!.start)).toBe('Tue 2026-12-01T09:00');
  });

  it('evaluates wall-clock windows in the calendar zone across a DST change', () => {
    const ny: CallingCalendar = { ...shanghai, timezone: 'America/New_York', workingDays: [1, 2, 3, 4, 5, 6, 7] };
    // 2026-03-08 is the spring-forward day in New York: 09:00 local is 13:00 UTC (EDT), not 14:00 UTC (EST).
    const o = nextOpening(ny, DateTime.fromISO('2026-03-08T05:00', { zone: 'UTC' }).toMillis())!;
    expect(DateTime.fromMillis(o.start, { zone: 'UTC' }).toISO()).toBe('2026-03-08T13:00:00.000Z');
    const before = nextOpening(ny, DateTime.fromISO('2026-03-07T05:00', { zone: 'UTC' }).toMillis())!;
    expect(DateTime.fromMillis(before.start, { zone: 'UTC' }).toISO()).toBe('2026-03-07T14:00:00.000Z');
  });

  it('returns null when there are no working days or no open time', () => {
    expect(nextOpening({ ...shanghai, workingDays: [] }, at('2026-11-27T10:00'))).toBeNull();
    expect(
      nextOpening({ ...shanghai, windows: [{ start: '12:00', end: '14:00' }] }, at('2026-11-27T10:00')),
    ).toBeNull();
  });
});

describe('closedReason', () => {
  const cal: CallingCalendar = {
    timezone: 'Asia/Shanghai',
    workingDays: [1, 2, 3, 4, 5],
    windows: [{ start: '09:00', end: '18:00' }],
    blocked: [
      { start: '12:00', end: '14:00' },
      { start: '21:00', end: '09:00' },
    ],
    holidays: ['2026-10-01'],
  };
  const at = (iso: string) => DateTime.fromISO(iso, { zone: 'Asia/Shanghai' }).toMillis();

  it('names why a closed instant is closed, and nothing for an open one', () => {
    expect(closedReason(cal, at('2026-11-27T10:00'))).toBeUndefined(); // a Friday morning
    expect(closedReason(cal, at('2026-11-27T12:30'))).toBe('blocked hours');
    expect(closedReason(cal, at('2026-11-27T19:00'))).toBe('outside working windows');
    expect(closedReason(cal, at('2026-11-28T10:00'))).toBe('non-working day'); // Saturday
    expect(closedReason(cal, at('2026-10-01T10:00'))).toBe('holiday'); // a Thursday
  });
});
