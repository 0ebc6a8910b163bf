/**
 * When may a contact be called? One pure function answers it for the API (validation, forecasts), the campaign
 * workflow (durable sleeps until the next opening) and the dial activity (the re-check just before originating).
 *
 * Open time = a working day (and not a holiday) ∧ inside one of the task's working windows ∧ outside every blocked
 * period — all evaluated as wall-clock time in one IANA zone (the contact's own zone when the list gives one,
 * else the task's). Blocked periods may wrap midnight (21:00–09:00); working windows may not. Intervals are
 * half-open: a window 09:00–12:00 admits 09:00:00.000 and excludes 12:00:00.000.
 *
 * Luxon is pure here: every function takes the instant it reasons about; nothing reads a clock, so it is safe
 * inside workflow code.
 */
import { DateTime } from 'luxon';

export interface DayPeriod {
  /** HH:mm, 24-hour, local wall-clock time. */
  start: string;
  end: string;
}

export interface CallingCalendar {
  timezone: string;
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  workingDays: number[];
  /** Working windows within a day; start < end. */
  windows: DayPeriod[];
  /** Platform blocked hours; may wrap midnight. */
  blocked: DayPeriod[];
  /** Local dates (yyyy-MM-dd) on which nobody is called. */
  holidays?: string[];
}

const MINUTES_PER_DAY = 24 * 60;
/** How far ahead to look for an opening before concluding there is none. */
const SEARCH_DAYS = 400;

/** Is `zone` an IANA time zone this runtime knows (the one check for every zone a user or the config gives)? */
export function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function minutesOf(hhmm: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!m) throw new RangeError(`not HH:mm: ${hhmm}`);
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  if (Number(m[1]) > 23 || Number(m[2]) > 59) throw new RangeError(`not HH:mm: ${hhmm}`);
  return minutes;
}

type Segment = [number, number]; // [startMinute, endMinute) within one local day

/** Blocked periods as segments of one day; a period wrapping midnight becomes two. */
function blockedSegments(blocked: DayPeriod[]): Segment[] {
  const out: Segment[] = [];
  for (const b of blocked) {
    const s = minutesOf(b.start);
    const e = minutesOf(b.end);
    if (s < e) out.push([s, e]);
    else if (s > e) out.push([s, MINUTES_PER_DAY], [0, e]);
    // s === e blocks nothing (validated away by the API).
  }
  return out;
}

function subtract(segment: Segment, cuts: Segment[]): Segment[] {
  let pieces: Segment[] = [segment];
  for (const [cs, ce] of cuts) {
    const next: Segment[] = [];
    for (const [s, e] of pieces) {
      if (ce <= s || cs >= e) next.push([s, e]);
      else {
        if (cs > s) next.push([s, cs]);
        if (ce < e) next.push([ce, e]);
      }
    }
    pieces = next;
  }
  return pieces;
}

/** The open segments of any working day, in minutes, sorted and merged. */
export function openSegments(calendar: Pick<CallingCalendar, 'windows' | 'blocked'>): Segment[] {
  const cuts = blockedSegments(calendar.blocked);
  const pieces = calendar.windows.flatMap((w) => subtract([minutesOf(w.start), minutesOf(w.end)], cuts));
  pieces.sort((a, b) => a[0] - b[0]);
  const merged: Segment[] = [];
  for (const p of pieces) {
    const last = merged[merged.length - 1];
    if (last && p[0] <= last[1]) last[1] = Math.max(last[1], p[1]);
    else if (p[1] > p[0]) merged.push([p[0], p[1]]);
  }
  return merged;
}

function atMinute(day: DateTime, minute: number): DateTime {
  // Luxon resolves a wall-clock time that DST skips by moving it forward, which is what a caller expects.
  return day.set({ hour: Math.floor(minute / 60), minute: minute % 60, second: 0, millisecond: 0 });
}

export interface Opening {
  /** First instant (epoch ms) at or after `from` when calling is allowed. */
  start: number;
  /** End (exclusive, epoch ms) of that open interval. */
  end: number;
}

/**
 * The open interval containing `fromMs`, or the next one after it; `null` if none within ~400 days
 * (no working days, all windows blocked).
 */
export function nextOpening(calendar: CallingCalendar, fromMs: number): Opening | null {
  const segments = openSegments(calendar);
  if (!segments.length || !calendar.workingDays.length) return null;
  const holidays = new Set(calendar.holidays ?? []);
  const from = DateTime.fromMillis(fromMs, { zone: calendar.timezone });
  if (!from.isValid) throw new RangeError(`invalid time zone: ${calendar.timezone}`);
  let day = from.startOf('day');
  for (let i = 0; i < SEARCH_DAYS; i++, day = day.plus({ days: 1 }).startOf('day')) {
    if (!calendar.workingDays.includes(day.weekday) || holidays.has(day.toISODate() ?? '')) continue;
    for (const [s, e] of segments) {
      const start = atMinute(day, s).toMillis();
      const end = e >= MINUTES_PER_DAY ? day.plus({ days: 1 }).startOf('day').toMillis() : atMinute(day, e).toMillis();
      if (end > fromMs && end > start) return { start: Math.max(start, fromMs), end };
    }
  }
  return null;
}

export function isOpenAt(calendar: CallingCalendar, atMs: number): boolean {
  const o = nextOpening(calendar, atMs);
  return o !== null && o.start === atMs;
}

/** Why calling is not allowed at an instant, in the order a supervisor would look: the day, then the time. */
export type ClosedReason = 'holiday' | 'non-working day' | 'blocked hours' | 'outside working windows';

/** Why the calendar is closed at `atMs` (undefined when it is open). */
export function closedReason(calendar: CallingCalendar, atMs: number): ClosedReason | undefined {
  if (isOpenAt(calendar, atMs)) return undefined;
  const at = DateTime.fromMillis(atMs, { zone: calendar.timezone });
  if ((calendar.holidays ?? []).includes(at.toISODate() ?? '')) return 'holiday';
  if (!calendar.workingDays.includes(at.weekday)) return 'non-working day';
  const minute = at.hour * 60 + at.minute;
  const inWindow = calendar.windows.some((w) => minute >= minutesOf(w.start) && minute < minutesOf(w.end));
  return inWindow ? 'blocked hours' : 'outside working windows';
}
