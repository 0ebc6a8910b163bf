/**
 * The tenant's frequency cap: at most `perDay` calls to one number per local day and `perWeek` per 7 local days
 * (the day itself and the six before it), across all the tenant's tasks. Pure: the dial activity loads the
 * number's recent per-day counts, asks here, and records the call only if it is allowed.
 *
 * A capped contact is not a failure: it waits for the first local day on which the cap allows a call.
 */
import { DateTime } from 'luxon';

export interface FrequencyCap {
  /** 0 = no daily cap. */
  perDay: number;
  /** 0 = no weekly cap. */
  perWeek: number;
  /** Zone whose calendar days count (the tenant's). */
  timezone: string;
}

/** Calls per local date (yyyy-MM-dd). */
export type DayCounts = Record<string, number>;

export type CapDecision = { allowed: true; day: string } | { allowed: false; day: string; retryAt: number };

const WEEK_DAYS = 7;

function countOver(counts: DayCounts, day: DateTime, span: number): number {
  let n = 0;
  for (let i = 0; i < span; i++) n += counts[day.minus({ days: i }).toISODate()!] ?? 0;
  return n;
}

function allowedOn(cap: FrequencyCap, counts: DayCounts, day: DateTime): boolean {
  if (cap.perDay > 0 && (counts[day.toISODate()!] ?? 0) >= cap.perDay) return false;
  if (cap.perWeek > 0 && countOver(counts, day, WEEK_DAYS) >= cap.perWeek) return false;
  return true;
}

/** May the number be called at `atMs`? If not, from when (start of the first local day that allows it). */
export function checkCap(cap: FrequencyCap, counts: DayCounts, atMs: number): CapDecision {
  const today = DateTime.fromMillis(atMs, { zone: cap.timezone }).startOf('day');
  if (allowedOn(cap, counts, today)) return { allowed: true, day: today.toISODate()! };
  // Counts only age out, so within a week of days one is found (no new calls are recorded meanwhile).
  for (let d = 1; d <= WEEK_DAYS; d++) {
    const day = today.plus({ days: d });
    if (allowedOn(cap, counts, day)) return { allowed: false, day: today.toISODate()!, retryAt: day.toMillis() };
  }
  return { allowed: false, day: today.toISODate()!, retryAt: today.plus({ days: WEEK_DAYS }).toMillis() };
}

/** Keep only the days that can still matter for the weekly window. */
export function pruneCounts(counts: DayCounts, cap: FrequencyCap, atMs: number): DayCounts {
  const oldest = DateTime.fromMillis(atMs, { zone: cap.timezone })
    .startOf('day')
    .minus({ days: WEEK_DAYS - 1 })
    .toISODate()!;
  return Object.fromEntries(Object.entries(counts).filter(([day]) => day >= oldest));
}
