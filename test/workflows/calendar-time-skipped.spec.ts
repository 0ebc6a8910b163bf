/**
 * Multi-day schedules on the real Temporal time-skipping test server (issue #4): a list started on a Friday evening
 * before a weekend and a holiday, and openings across daylight-saving changes — real dates, real IANA zones, the real
 * campaign and contact workflows; the activities are the harness's fakes (test/support/campaign-harness.ts).
 *
 * The server's clock is not the wall clock: whenever nothing runs it skips to its next timer, which between two
 * campaigns is a leftover ten-year workflow timeout, so it jumps years ahead between tests (keeping the time of day,
 * not the date). A fixed date cannot work and neither can a date read before the campaign starts — unless the clock
 * is held still in between. So each test, through the server's own TestService:
 *   1. locks time skipping (nothing skips while we read the clock and set up),
 *   2. reads the server's time and picks the instant it wants from it (the next Friday 17:30 in Shanghai; 08:50 the
 *      day before the next DST change in New York or Berlin) — computed with luxon, in the zone,
 *   3. sleeps the server forward to exactly that instant (`unlockTimeSkippingWithSleep`: skips, then locks again),
 *   4. starts the workers and the campaign (the harness waits until the workers poll), and only then unlocks, so the
 *      campaign's own timers are what the server skips to.
 * The lock is always released (finally): a lock left behind would stop time skipping for every user of the server.
 * It is held for about a second per test. Another user's lock on a shared server delays step 3 by real time.
 */
import { Connection } from '@temporalio/client';
// Internal: the option @temporalio/testing itself sets to reach the test server's TestService, which
// TestWorkflowEnvironment.createFromExistingServer does not expose.
import { InternalConnectionOptionsSymbol, type InternalConnectionOptions } from '@temporalio/client/lib/connection';
import { msToTs, tsToMs } from '@temporalio/common/lib/time';
import { DateTime } from 'luxon';
import { isOpenAt, type CallingCalendar } from '../../src/calendar';
import type { PlaceCallInput } from '../../workflows/definitions';
import { closeHarness, openHarness, startCampaign } from '../support/campaign-harness';
import { servers } from '../support/servers';

/** The platform's default blocked hours (seed-spec §2: lunch and night). */
const BLOCKED = [
  { start: '12:00', end: '14:00' },
  { start: '21:00', end: '09:00' },
];

let connection: Connection;

beforeAll(async () => {
  await openHarness(servers.temporalTestAddress);
  const options: InternalConnectionOptions = {
    address: servers.temporalTestAddress,
    [InternalConnectionOptionsSymbol]: { supportsTestService: true },
  };
  connection = await Connection.connect(options);
}, 120_000);
afterAll(async () => {
  await connection?.close();
  await closeHarness();
});

function testService() {
  if (!connection.testService) throw new Error('no TestService on this connection');
  return connection.testService;
}

async function serverTimeMs(): Promise<number> {
  const { time } = await testService().getCurrentTime({});
  return tsToMs(time);
}

type CampaignArgs = Parameters<typeof startCampaign>;

/**
 * Runs a campaign that starts at a server instant chosen from the server's current time (see the file header):
 * `plan(now)` returns that instant and the campaign's arguments (its calendar is usually built from the instant).
 * Resolves once the campaign and every child have closed, with the instant the campaign started at.
 */
async function campaignAt(plan: (serverNow: DateTime) => { at: DateTime; args: CampaignArgs }) {
  await testService().lockTimeSkipping({});
  let run: Awaited<ReturnType<typeof startCampaign>>;
  let startedAt: DateTime;
  try {
    const now = DateTime.fromMillis(await serverTimeMs(), { zone: 'UTC' });
    const { at, args } = plan(now);
    const ms = at.toMillis() - now.toMillis();
    if (ms < 0) throw new Error(`target ${at.toISO()} is before the server's time ${now.toISO()}`);
    await testService().unlockTimeSkippingWithSleep({ duration: msToTs(ms) });
    startedAt = DateTime.fromMillis(await serverTimeMs(), { zone: at.zone });
    run = await startCampaign(...args);
  } finally {
    await testService().unlockTimeSkipping({});
  }
  const result = await run.done;
  return { startedAt, h: run.h, result };
}

/** The next instant after `from` that is `weekday` (ISO, 1 = Monday) at `time` (HH:mm) local time in `zone`. */
function nextLocal(from: DateTime, zone: string, weekday: number, time: string): DateTime {
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  let day = from.setZone(zone).startOf('day');
  for (let i = 0; i < 8; i++, day = day.plus({ days: 1 })) {
    const at = day.set({ hour, minute });
    if (at.weekday === weekday && at > from) return at;
  }
  throw new Error('unreachable: every weekday occurs within 8 days');
}

/** The first instant after `from` at which `zone`'s UTC offset changes (a DST transition), found hour by hour. */
function nextOffsetChange(from: DateTime, zone: string): DateTime {
  let t = from.setZone(zone).startOf('hour');
  const offset = t.offset;
  for (let i = 0; i < 24 * 370; i++) {
    t = t.plus({ hours: 1 });
    if (t.offset !== offset) return t;
  }
  throw new Error(`${zone} has no DST change within a year`);
}

const dialsOf = (dialled: { input: PlaceCallInput; scheduledMs: number }[], index: number) =>
  dialled.filter((d) => d.input.contactIndex === index).sort((a, b) => a.input.attempt - b.input.attempt);

/** Local wall-clock time of an instant, with the weekday: "Fri 17:30". */
const local = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toFormat('ccc HH:mm');

/** `ms` lies within a minute after `at` (a timer fires at its instant; the dial follows within real seconds). */
function expectAtOrJustAfter(ms: number, at: DateTime): void {
  expect(ms).toBeGreaterThanOrEqual(at.toMillis());
  expect(ms).toBeLessThan(at.toMillis() + 60_000);
}

describe('a list started on a Friday evening before a weekend and a holiday (time-skipped, real dates)', () => {
  const zone = 'Asia/Shanghai';
  /** Monday to Friday, two windows around the lunch block; the Monday after the chosen Friday is a holiday. */
  const weekdays = (friday: DateTime): CallingCalendar => ({
    timezone: zone,
    workingDays: [1, 2, 3, 4, 5],
    windows: [
      { start: '09:00', end: '12:00' },
      { start: '14:00', end: '18:00' },
    ],
    blocked: BLOCKED,
    holidays: [friday.plus({ days: 3 }).toISODate()!],
  });

  it('dials at once while open; a redial that falls after the close waits for Tuesday 09:00', async () => {
    let friday!: DateTime;
    let calendar!: CallingCalendar;
    const { startedAt, h, result } = await campaignAt((now) => {
      friday = nextLocal(now, zone, 5, '17:30');
      calendar = weekdays(friday);
      return {
        at: friday,
        args: [
          { totalContacts: 3, aiSeats: 3, calendar, retry: { reasons: ['BUSY'], maxRetries: 1, intervalMinutes: 60 } },
          (input) => (input.contactIndex === 1 && input.attempt === 1 ? 'BUSY' : 'SUCCESS'),
          // Contact 2 lives in London: Friday 17:30 in Shanghai is Friday morning there, inside its own window.
          { contactZone: (i) => (i === 2 ? 'Europe/London' : undefined) },
        ],
      };
    });
    expect(local(startedAt.toMillis(), zone)).toBe('Fri 17:30');
    expect(result).toMatchObject({ status: 'COMPLETED', total: 3, finished: 3, byResult: { SUCCESS: 3 } });
    const tuesday = friday.plus({ days: 4 }).set({ hour: 9, minute: 0 });
    expect(tuesday.weekday).toBe(2);

    const [c0, c1, c2] = [dialsOf(h.dialled, 0), dialsOf(h.dialled, 1), dialsOf(h.dialled, 2)];
    // Contact 0: dialled on the Friday evening, before the 18:00 close.
    expect(c0).toHaveLength(1);
    expectAtOrJustAfter(c0[0]!.scheduledMs, friday);
    // Contact 1: busy on Friday; its redial interval ends at 18:30, after the close; Saturday and Sunday are not
    // working days and Monday is the holiday, so the redial is Tuesday's opening.
    expect(c1.map((d) => d.input.attempt)).toEqual([1, 2]);
    expectAtOrJustAfter(c1[0]!.scheduledMs, friday);
    expectAtOrJustAfter(c1[1]!.scheduledMs, tuesday);
    expect(local(c1[1]!.scheduledMs, zone)).toBe('Tue 09:00');
    // Contact 2: in its own zone (London) it is Friday morning: dialled at once, not held to Shanghai's hours.
    expect(c2).toHaveLength(1);
    expectAtOrJustAfter(c2[0]!.scheduledMs, friday);
    expect(local(c2[0]!.scheduledMs, 'Europe/London')).toMatch(/^Fri (09|10):3\d$/);
    for (const d of h.dialled) expect(isOpenAt(d.input.calendar, d.scheduledMs)).toBe(true);
  });

  it('started after the Friday close: nobody is called before Tuesday 09:00', async () => {
    let friday!: DateTime;
    const { h, result } = await campaignAt((now) => {
      friday = nextLocal(now, zone, 5, '19:00');
      return {
        at: friday,
        args: [{ totalContacts: 4, aiSeats: 2, calendar: weekdays(friday) }, () => 'SUCCESS'],
      };
    });
    expect(result).toMatchObject({ status: 'COMPLETED', finished: 4 });
    const tuesday = friday.plus({ days: 4 }).set({ hour: 9, minute: 0 });
    expect(h.dialled).toHaveLength(4);
    for (const d of h.dialled) {
      expectAtOrJustAfter(d.scheduledMs, tuesday);
      expect(local(d.scheduledMs, zone)).toBe('Tue 09:00');
    }
  });
});

describe.each(['America/New_York', 'Europe/Berlin'])('a DST change in %s (time-skipped, real dates)', (zone) => {
  it('dials at 09:00 local the day before and the day of the change: 23 or 25 hours apart', async () => {
    let before!: DateTime;
    let after!: DateTime;
    const { h } = await campaignAt((now) => {
      // The next change at least two days ahead, so the evening before it is still to come.
      const change = nextOffsetChange(now.plus({ days: 2 }), zone);
      after = change.startOf('day').set({ hour: 9 }); // changes happen at 01:00–03:00 local: 09:00 is after
      before = after.minus({ days: 1 }); // luxon's calendar arithmetic: 09:00 local the day before
      const calendar: CallingCalendar = {
        timezone: zone,
        workingDays: [1, 2, 3, 4, 5, 6, 7],
        windows: [{ start: '09:00', end: '09:30' }],
        blocked: BLOCKED,
      };
      return {
        at: before.minus({ minutes: 10 }),
        args: [
          { totalContacts: 1, calendar, retry: { reasons: ['NO_ANSWER'], maxRetries: 1, intervalMinutes: 60 } },
          (input) => (input.attempt === 1 ? 'NO_ANSWER' : 'SUCCESS'),
        ],
      };
    });
    expect(before.offset).not.toBe(after.offset);
    const [first, second] = dialsOf(h.dialled, 0);
    // First dial at the opening the day before; the redial (due 10:00, after the 09:30 close) at the next opening,
    // which is on the far side of the change: 09:00 local wall-clock time both times.
    expectAtOrJustAfter(first!.scheduledMs, before);
    expectAtOrJustAfter(second!.scheduledMs, after);
    expect(DateTime.fromMillis(first!.scheduledMs, { zone }).toFormat('HH:mm')).toBe('09:00');
    expect(DateTime.fromMillis(second!.scheduledMs, { zone }).toFormat('HH:mm')).toBe('09:00');
    expect(DateTime.fromMillis(second!.scheduledMs, { zone }).offset).toBe(after.offset);
    // Not 24 hours: 23 when the clocks go forward, 25 when they go back.
    const hours = Math.round((second!.scheduledMs - first!.scheduledMs) / 3600_000);
    expect(hours).toBe(after.offset > before.offset ? 23 : 25);
  });
});
