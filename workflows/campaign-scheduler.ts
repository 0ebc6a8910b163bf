/**
 * The campaign's state machine, free of Temporal so it can be reasoned about (and unit-tested) on its own; the
 * workflow in campaign.ts only wires signals, updates and timers to it.
 *
 * Two limits, two meanings:
 * - a **seat** (AI seat) is held only while a contact is being dialled or talked to: that is the task's concurrency,
 *   never exceeded;
 * - a **live slot** is held by every started child, including those waiting for their window or a redial; the live
 *   limit only bounds how many children exist at once (and so the campaign's history and memory).
 */
import type { CallResultCode } from '../src/call-result';
import type { CampaignProgress, CampaignState, CampaignTask, TaskStatus } from './definitions';

/** Children alive at once: enough that waiting contacts never starve the seats, small enough to stay cheap. */
export function liveLimitFor(seats: number): number {
  return Math.min(2000, Math.max(4 * seats, 100));
}

export const MAX_SEATS = 1000;

export class CampaignScheduler {
  private readonly live: Set<number>;
  private readonly dialling: Set<number>;
  private waiting: number[];

  constructor(private readonly s: CampaignState) {
    this.live = new Set(s.live);
    this.dialling = new Set(s.dialling);
    this.waiting = [...s.waiting];
  }

  static initial(task: CampaignTask): CampaignState {
    return {
      cursor: 0,
      total: task.totalContacts,
      live: [],
      dialling: [],
      waiting: [],
      finished: 0,
      seats: task.aiSeats,
      paused: false,
      cancelled: false,
      byResult: {},
      generation: 0,
      peakDialling: 0,
    };
  }

  get paused(): boolean {
    return this.s.paused;
  }

  get cancelled(): boolean {
    return this.s.cancelled;
  }

  get cursor(): number {
    return this.s.cursor;
  }

  get seats(): number {
    return this.s.seats;
  }

  /** May another contact's child be started now? */
  canAdmit(): boolean {
    return (
      !this.s.paused && !this.s.cancelled && this.s.cursor < this.s.total && this.live.size < liveLimitFor(this.s.seats)
    );
  }

  /** Admit the next contact: it becomes live. Returns its index. */
  admit(): number {
    const index = this.s.cursor++;
    this.live.add(index);
    return index;
  }

  /** A live child asks for a seat. Duplicates (a re-sent signal) are ignored. */
  request(index: number): void {
    if (this.s.cancelled || !this.live.has(index) || this.dialling.has(index) || this.waiting.includes(index)) return;
    this.waiting.push(index);
  }

  hasGrantable(): boolean {
    return !this.s.paused && !this.s.cancelled && this.waiting.length > 0 && this.dialling.size < this.s.seats;
  }

  /** Move waiting contacts to dialling while seats are free; the caller tells each child. */
  takeGrants(): number[] {
    const granted: number[] = [];
    while (this.hasGrantable()) {
      const index = this.waiting.shift()!;
      this.dialling.add(index);
      granted.push(index);
    }
    this.s.peakDialling = Math.max(this.s.peakDialling, this.dialling.size);
    return granted;
  }

  release(index: number): void {
    this.dialling.delete(index);
  }

  /** A child is done. Returns false for an unknown or repeated report (it must not count twice). */
  finish(index: number, code: CallResultCode | undefined): boolean {
    this.release(index);
    this.waiting = this.waiting.filter((i) => i !== index);
    if (!this.live.delete(index)) return false;
    this.s.finished++;
    if (code) this.s.byResult[code] = (this.s.byResult[code] ?? 0) + 1;
    return true;
  }

  pause(): void {
    this.s.paused = true;
  }

  resume(): void {
    this.s.paused = false;
  }

  /** Stop admitting and granting; returns the live children to tell. Calls in progress finish normally. */
  cancel(): number[] {
    this.s.cancelled = true;
    this.waiting = [];
    return [...this.live];
  }

  setSeats(seats: number): void {
    this.s.seats = seats;
  }

  /** AttachTask grew the list. A total never shrinks. */
  extend(total: number): void {
    this.s.total = Math.max(this.s.total, total);
  }

  /** Every admitted contact is done and nothing more will be admitted. */
  done(): boolean {
    return (this.s.cancelled || this.s.cursor >= this.s.total) && this.live.size === 0;
  }

  snapshot(): CampaignState {
    return { ...this.s, live: [...this.live], dialling: [...this.dialling], waiting: [...this.waiting] };
  }

  nextGeneration(): CampaignState {
    return { ...this.snapshot(), generation: this.s.generation + 1 };
  }

  progress(status: TaskStatus): CampaignProgress {
    return {
      status,
      total: this.s.total,
      dispatched: this.s.cursor,
      live: this.live.size,
      dialling: this.dialling.size,
      waitingForSeat: this.waiting.length,
      finished: this.s.finished,
      seats: this.s.seats,
      peakDialling: this.s.peakDialling,
      byResult: { ...this.s.byResult },
      generation: this.s.generation,
    };
  }
}
