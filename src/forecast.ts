/**
 * When will a task finish? An estimate from what is left, the seats, the calendar, the retry policy and the call
 * profile (answer rate and talk time, given by the caller or measured so far). Pure, so the API can forecast a task
 * before it starts and while it runs.
 *
 * Model (stated so the numbers can be judged):
 * - an attempt is answered with probability `answerRate`; an unanswered attempt is redialled with probability
 *   `retryShare` (the share of failures whose result the task redials), at most `maxRetries` times, so a contact
 *   costs 1 + q + q² + … + q^maxRetries attempts, q = (1 − answerRate) × retryShare;
 * - an answered attempt holds a seat for `setupSeconds + talkSeconds`, an unanswered one for `failSeconds`;
 * - the task's seats are all busy whenever the calendar is open; the remaining seat-time is spread over the open
 *   intervals from now on. Redial intervals are not modelled: with more contacts than seats they overlap other
 *   contacts' calls; for a short tail the estimate is early by at most one interval.
 */
import { nextOpening, type CallingCalendar } from './calendar';

export interface CallProfile {
  /** 0..1 */
  answerRate: number;
  /** Average talk time of an answered call. */
  talkSeconds: number;
  /** Dialling and ringing before an answer. */
  setupSeconds: number;
  /** Seat time of an attempt that is not answered (ringing until busy, reject or the ring timeout). */
  failSeconds: number;
  /** 0..1: the share of unanswered attempts whose result the task redials. */
  retryShare: number;
}

export interface ForecastInput {
  nowMs: number;
  calendar: CallingCalendar;
  /** Contacts that still need at least one attempt. */
  remainingContacts: number;
  seats: number;
  maxRetries: number;
  profile: CallProfile;
}

export interface Forecast {
  /** ISO instant, or null when the calendar never opens (or nothing is left: then `finishesAt` is now). */
  finishesAt: string | null;
  expectedAttempts: number;
  /** Seat-seconds of calling still needed. */
  seatSeconds: number;
  /** Open calendar time needed with all seats busy. */
  openSeconds: number;
}

/** Give up looking for open time this far ahead (a list that needs more is reported as not finishing). */
const HORIZON_DAYS = 366;

export function expectedAttemptsPerContact(answerRate: number, retryShare: number, maxRetries: number): number {
  const q = (1 - answerRate) * retryShare;
  let sum = 0;
  for (let k = 0; k <= maxRetries; k++) sum += q ** k;
  return sum;
}

export function forecast(input: ForecastInput): Forecast {
  const { profile: p } = input;
  const attemptsPerContact = expectedAttemptsPerContact(p.answerRate, p.retryShare, input.maxRetries);
  const expectedAttempts = input.remainingContacts * attemptsPerContact;
  const perAttempt = p.answerRate * (p.setupSeconds + p.talkSeconds) + (1 - p.answerRate) * p.failSeconds;
  const seatSeconds = expectedAttempts * perAttempt;
  const openSeconds = seatSeconds / Math.max(1, input.seats);
  const result = { expectedAttempts, seatSeconds, openSeconds };
  if (openSeconds <= 0) return { ...result, finishesAt: new Date(input.nowMs).toISOString() };

  let needMs = openSeconds * 1000;
  let at = input.nowMs;
  const horizon = input.nowMs + HORIZON_DAYS * 86_400_000;
  while (at < horizon) {
    const o = nextOpening(input.calendar, at);
    if (!o) break;
    const span = o.end - o.start;
    if (span >= needMs) return { ...result, finishesAt: new Date(o.start + needMs).toISOString() };
    needMs -= span;
    at = o.end;
  }
  return { ...result, finishesAt: null };
}
