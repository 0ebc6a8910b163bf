import { DateTime } from 'luxon';
import type { CallingCalendar } from './calendar';
import { expectedAttemptsPerContact, forecast, type CallProfile } from './forecast';

const zone = 'Asia/Shanghai';
const calendar: CallingCalendar = {
  timezone: zone,
  workingDays: [1, 2, 3, 4, 5],
  windows: [{ start: '09:00', end: '18:00' }],
  blocked: [{ start: '12:00', end: '14:00' }],
};
const at = (iso: string) => DateTime.fromISO(iso, { zone }).toMillis();
const local = (iso: string | null) => (iso ? DateTime.fromISO(iso, { zone }).toFormat("ccc yyyy-MM-dd'T'HH:mm") : null);
const profile: CallProfile = { answerRate: 0.5, talkSeconds: 50, setupSeconds: 10, failSeconds: 20, retryShare: 1 };

describe('forecast', () => {
  it('expected attempts follow the retry policy', () => {
    expect(expectedAttemptsPerContact(0.5, 1, 0)).toBe(1);
    expect(expectedAttemptsPerContact(0.5, 1, 2)).toBe(1.75);
    expect(expectedAttemptsPerContact(0.5, 0, 3)).toBe(1);
  });

  it('spreads the seat time over open hours, skipping lunch, nights and the weekend', () => {
    // 360 contacts × 1 attempt × (0.5×60 + 0.5×20 = 40 s) = 14,400 seat-s; 2 seats → 2 h of open time.
    const f = forecast({
      nowMs: at('2026-11-27T11:00'),
      calendar,
      remainingContacts: 360,
      seats: 2,
      maxRetries: 0,
      profile,
    });
    expect(f.seatSeconds).toBe(14_400);
    expect(f.openSeconds).toBe(7_200);
    // Friday 11:00–12:00 (1 h), then 14:00–15:00.
    expect(local(f.finishesAt)).toBe('Fri 2026-11-27T15:00');
    const weekend = forecast({
      nowMs: at('2026-11-27T17:30'),
      calendar,
      remainingContacts: 360,
      seats: 2,
      maxRetries: 0,
      profile,
    });
    // 30 min on Friday, then Monday 09:00 + 1.5 h.
    expect(local(weekend.finishesAt)).toBe('Mon 2026-11-30T10:30');
  });

  it('says now when nothing is left, and null when the calendar never opens', () => {
    const now = at('2026-11-27T11:00');
    expect(forecast({ nowMs: now, calendar, remainingContacts: 0, seats: 2, maxRetries: 0, profile }).finishesAt).toBe(
      new Date(now).toISOString(),
    );
    expect(
      forecast({
        nowMs: now,
        calendar: { ...calendar, workingDays: [] },
        remainingContacts: 5,
        seats: 2,
        maxRetries: 0,
        profile,
      }).finishesAt,
    ).toBeNull();
  });
});
