/**
 * Campaign and contact workflows on the real Temporal time-skipping test server: schedules that cross hours and
 * days run in seconds. See test/support/campaign-harness.ts for what is real and what is fake.
 */
import { DateTime } from 'luxon';
import { isOpenAt, type CallingCalendar } from '../../src/calendar';
import { closeHarness, openHarness, runCampaign, serverNow } from '../support/campaign-harness';
import { servers } from '../support/servers';

beforeAll(() => openHarness(servers.temporalTestAddress), 120_000);
afterAll(() => closeHarness());

describe('campaignWorkflow', () => {
  it('dials every contact once across pages and never exceeds the AI seats', async () => {
    // Each call lasts 300 ms (real time), long enough that both seats are in use at once.
    const { h, result } = await runCampaign({ totalContacts: 7, aiSeats: 2 }, () => 'SUCCESS', { holdMs: 300 });
    expect(result).toMatchObject({ status: 'COMPLETED', total: 7, finished: 7, byResult: { SUCCESS: 7 } });
    expect(h.dialled.map((d) => d.input.contactIndex).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(h.maxConcurrent).toBeLessThanOrEqual(2);
    expect(h.maxConcurrent).toBe(2);
    expect(h.statuses).toEqual(['RUNNING', 'COMPLETED']);
  });

  it('redials only the selected failure reasons, after the interval, with a new attempt id', async () => {
    const { h, result } = await runCampaign(
      { totalContacts: 2, retry: { reasons: ['BUSY'], maxRetries: 2, intervalMinutes: 30 } },
      (input) =>
        input.contactIndex === 0 && input.attempt === 1
          ? 'BUSY'
          : input.contactIndex === 1
            ? 'EMPTY_NUMBER'
            : 'SUCCESS',
    );
    expect(result.byResult).toEqual({ SUCCESS: 1, EMPTY_NUMBER: 1 });
    const c0 = h.dialled.filter((d) => d.input.contactIndex === 0);
    expect(c0.map((d) => d.input.attemptId.split('-').slice(-1)[0])).toEqual(['1', '2']);
    // The redial waits the interval (time-skipped): at least 30 minutes of workflow time between the two attempts.
    const [first, second] = c0;
    expect(second && first && second.scheduledMs - first.scheduledMs).toBeGreaterThanOrEqual(30 * 60_000);
    // 空号 is not a selected reason: no redial.
    expect(h.dialled.filter((d) => d.input.contactIndex === 1)).toHaveLength(1);
  });

  it('stops redialling after maxRetries', async () => {
    const { h } = await runCampaign(
      { totalContacts: 1, retry: { reasons: ['NO_ANSWER'], maxRetries: 3, intervalMinutes: 1 } },
      () => 'NO_ANSWER',
    );
    expect(h.dialled).toHaveLength(4);
    expect(h.recorded.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
  });

  it('waits for the calendar to open and never dials in a closed period', async () => {
    // A calendar whose only window opens at the top of the hour after next (never across midnight: it lasts 30 min).
    const now = DateTime.fromMillis(Date.now(), { zone: 'UTC' });
    const opens = now.plus({ hours: 2 }).startOf('hour');
    const calendar: CallingCalendar = {
      timezone: 'UTC',
      workingDays: [1, 2, 3, 4, 5, 6, 7],
      windows: [{ start: opens.toFormat('HH:mm'), end: opens.plus({ minutes: 30 }).toFormat('HH:mm') }],
      blocked: [],
    };
    const { h } = await runCampaign({ totalContacts: 3, aiSeats: 3, calendar }, () => 'SUCCESS');
    expect(h.dialled).toHaveLength(3);
    for (const d of h.dialled) {
      expect(isOpenAt(calendar, d.scheduledMs)).toBe(true);
      expect(d.scheduledMs).toBeGreaterThanOrEqual(opens.toMillis());
    }
  });

  it('frees the seat while a contact waits for its redial: others are dialled in the meantime', async () => {
    const { h } = await runCampaign(
      { totalContacts: 2, aiSeats: 1, retry: { reasons: ['BUSY'], maxRetries: 1, intervalMinutes: 60 } },
      (input) => (input.contactIndex === 0 && input.attempt === 1 ? 'BUSY' : 'SUCCESS'),
    );
    const order = h.dialled.map((d) => `${d.input.contactIndex}/${d.input.attempt}`);
    // Whichever of the two asks first gets the one seat; contact 1 is dialled during contact 0's redial interval.
    expect([...order].sort()).toEqual(['0/1', '0/2', '1/1']);
    expect(order.indexOf('1/1')).toBeLessThan(order.indexOf('0/2'));
    expect(h.dialled[2]!.scheduledMs - h.dialled[0]!.scheduledMs).toBeGreaterThanOrEqual(60 * 60_000);
  });
});

/** A fixed-offset zone in which `atMs` falls in local hour `hour` (Etc/GMT signs are inverted: Etc/GMT-8 is UTC+8). */
function zoneWithLocalHour(atMs: number, hour: number): string {
  for (let offset = -12; offset <= 14; offset++) {
    const zone = offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
    if (DateTime.fromMillis(atMs, { zone }).hour === hour) return zone;
  }
  throw new Error(`no zone has local hour ${hour}`);
}

const local = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toFormat("yyyy-MM-dd'T'HH:mm");

/*
 * Schedules relative to the server's clock. The time-skipping server's clock jumps ahead by whole years between
 * campaigns (its default ten-year workflow timeout), which keeps the time of day but not the date, so these tests
 * assert only times of day and intervals. Dates (a Friday evening before a weekend and a holiday, DST changes) are
 * tested on the server in test/workflows/calendar-time-skipped.spec.ts, which holds the clock still through the
 * server's TestService while it sets a campaign up, and against exact instants in src/calendar.spec.ts.
 */
describe('multi-day schedules (time-skipped)', () => {
  it('a redial whose interval ends in the lunch block waits for the afternoon window', async () => {
    const now = await serverNow();
    const zone = zoneWithLocalHour(now, 11);
    const minute = DateTime.fromMillis(now, { zone }).minute;
    const calendar: CallingCalendar = {
      timezone: zone,
      workingDays: [1, 2, 3, 4, 5, 6, 7],
      windows: [{ start: '09:00', end: '18:00' }],
      blocked: [{ start: '12:00', end: '14:00' }],
    };
    const intervalMinutes = 60 - minute + 10; // ends at about 12:10, inside the block
    const { h } = await runCampaign(
      { totalContacts: 1, calendar, retry: { reasons: ['BUSY'], maxRetries: 1, intervalMinutes } },
      (input) => (input.attempt === 1 ? 'BUSY' : 'SUCCESS'),
    );
    const [first, second] = h.dialled;
    expect(local(first!.scheduledMs, zone).slice(11, 13)).toBe('11');
    expect(local(second!.scheduledMs, zone).slice(11)).toBe('14:00');
    expect(second!.scheduledMs - first!.scheduledMs).toBeGreaterThanOrEqual(intervalMinutes * 60_000);
  });

  it('calls a contact in its own time zone, not the task’s', async () => {
    const now = await serverNow();
    const taskZone = zoneWithLocalHour(now, 10); // open for the task now
    const contactZone = zoneWithLocalHour(now, 22); // night for the contact
    const calendar: CallingCalendar = {
      timezone: taskZone,
      workingDays: [1, 2, 3, 4, 5, 6, 7],
      windows: [{ start: '09:00', end: '18:00' }],
      blocked: [{ start: '21:00', end: '09:00' }],
    };
    const { h } = await runCampaign({ totalContacts: 2, aiSeats: 2, calendar }, () => 'SUCCESS', {
      contactZone: (i) => (i === 1 ? contactZone : undefined),
    });
    const byIndex = new Map(h.dialled.map((d) => [d.input.contactIndex, d.scheduledMs]));
    // Contact 0 (task zone, open) is dialled at once; contact 1 waits for 09:00 in its own zone, the same night.
    expect(local(byIndex.get(0)!, taskZone).slice(11, 13)).toBe('10');
    expect(local(byIndex.get(1)!, contactZone).slice(11)).toBe('09:00');
    expect(byIndex.get(1)! - byIndex.get(0)!).toBeLessThan(12 * 3600_000);
    expect(h.dialled.find((d) => d.input.contactIndex === 1)!.input.calendar.timezone).toBe(contactZone);
  });
});
