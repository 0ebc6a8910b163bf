/**
 * One call's whole story for auditors (issue #9), built from its contact workflow's history
 * (`task/{taskId}/contact/{index}`, workflows/contact-call.ts) and, optionally, the campaign's history (pauses and
 * resumes while the contact waited for a seat) and the call and dialog records in MongoDB (to check they agree).
 *
 * The contact workflow's history says everything in order: when the contact became due (the workflow started),
 * every durable wait with its reason (the timer's summary, `waiting: …`, since the `wait-reasons` patch), every
 * seat request and grant, every dial (`placeCall`: its input and result), every dialog turn (the DialogTurn
 * records the turn activities `speak`/`listen`/`endCall` carry), the recording of each attempt and the end.
 * Pure: no I/O; the API and the tests feed it decoded histories.
 */
import type { AttemptOutcome, DialogEnd, PlaceCallInput, PlaceCallResult } from '../../workflows/definitions';
import type { DialogTurn } from '../script/engine';
import type { NodeRef } from '../script/model';
import { decodeHistory, type DecodedEvent, type History } from './history';

export type TimelineKind =
  | 'due'
  | 'wait'
  | 'seat'
  | 'dial'
  | 'dialSkipped'
  | 'dialFailed'
  | 'ringing'
  | 'answered'
  | 'turn'
  | 'transfer'
  | 'queue'
  | 'hangup'
  | 'result'
  | 'recorded'
  | 'status'
  | 'cancelled'
  | 'skipped'
  | 'activity'
  | 'finished';

/** One step of the story. `at` is a UTC instant; `until`/`seconds` for steps that last (waits, ringing). */
export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  /** What happened, in one line. */
  summary: string;
  attempt?: number;
  attemptId?: string;
  until?: string;
  seconds?: number;
  /** Why (a wait's reason, a skipped dial's reason). */
  reason?: string;
  /** The history event this entry comes from (the Temporal UI shows it under this id). */
  eventId?: number;
  /** Waits for a seat: the campaign was paused during part of it. */
  paused?: { from: string; to?: string }[];
  /** Dialog turns. */
  turn?: TimelineTurn;
  /** Dial results, failures and anything else worth showing raw. */
  details?: Record<string, unknown>;
}

export interface TimelineTurn {
  seq: number;
  input: DialogTurn['input'];
  node: NodeRef;
  heard?: string;
  key?: string;
  bargeInIgnored?: boolean;
  branchType?: string;
  branchId?: string;
  kbEntryId?: string;
  intentId?: string;
  module?: string;
  via?: string;
  robot: { utteranceId: string; text: string }[];
  next: NodeRef | null;
  tagsAdded: string[];
  end?: DialogTurn['end'];
}

/** One attempt as the history tells it. */
export interface AttemptStory {
  attempt: number;
  attemptId: string;
  /** When the workflow asked for the dial. */
  requestedAt?: string;
  outcome?: AttemptOutcome;
  turns: DialogTurn[];
  tags: string[];
  dialogEnd?: DialogEnd;
}

export interface ContactStory {
  workflowId?: string;
  taskId?: string;
  contactIndex?: number;
  phone?: string;
  status: 'running' | 'completed' | 'failed' | 'terminated' | 'cancelled' | 'timedOut' | 'continuedAsNew';
  entries: TimelineEntry[];
  attempts: AttemptStory[];
}

/** A pause of the campaign: from the accepted `pause` update to the accepted `resume` (or `to` undefined). */
export interface PauseInterval {
  from: number;
  to?: number;
}

/** The transfer's activities (workflows/transfer.ts) as timeline steps. */
const TRANSFER_STEPS: Record<string, { kind: TimelineKind; summary: string } | undefined> = {
  startHold: { kind: 'queue', summary: 'the callee is put on hold for the transfer' },
  enqueueTransfer: { kind: 'queue', summary: 'the call joins the skill group’s queue' },
  ringAgent: { kind: 'queue', summary: 'an agent’s phone rings' },
  bridgeAgent: { kind: 'queue', summary: 'the callee is bridged to the agent' },
};
/** Signals the queue sends the call during a transfer. */
const TRANSFER_SIGNALS: Record<string, string | undefined> = {
  agentOffered: 'the queue offers an agent',
  queueTimeout: 'nobody answered within the queue timeout',
};

const iso = (ms: number) => new Date(ms).toISOString();
const secs = (ms: number) => Math.round(ms / 10) / 100;

/** The pauses in a campaign history (any of its runs, in order of time). */
export function campaignPauses(histories: (History | string | object)[]): PauseInterval[] {
  const events = histories.flatMap((h) => decodeHistory(h)).sort((a, b) => a.at - b.at);
  const out: PauseInterval[] = [];
  let open: PauseInterval | undefined;
  for (const e of events) {
    if (e.kind !== 'updateAccepted') continue;
    if (e.update === 'pause' && !open) {
      open = { from: e.at };
      out.push(open);
    } else if ((e.update === 'resume' || e.update === 'cancel') && open) {
      open.to = e.at;
      open = undefined;
    }
  }
  return out;
}

/** Seat grants the campaign sent to one contact workflow (for cross-checking the child's own record). */
export function campaignGrants(histories: (History | string | object)[], contactWorkflowId: string): number[] {
  return histories
    .flatMap((h) => decodeHistory(h))
    .filter((e) => e.kind === 'signalSent' && e.signal === 'seatGranted' && e.to === contactWorkflowId)
    .map((e) => e.at);
}

function overlaps(p: PauseInterval, from: number, to: number): boolean {
  return p.from < to && (p.to ?? Infinity) > from;
}

function turnOf(t: DialogTurn): TimelineTurn {
  return {
    seq: t.seq,
    input: t.input,
    node: t.node,
    ...(t.calleeText !== undefined ? { heard: t.calleeText } : {}),
    ...(t.calleeKey !== undefined ? { key: t.calleeKey } : {}),
    ...(t.bargeInIgnored ? { bargeInIgnored: true } : {}),
    ...(t.branchType ? { branchType: t.branchType } : {}),
    ...(t.branchId ? { branchId: t.branchId } : {}),
    ...(t.kbEntryId ? { kbEntryId: t.kbEntryId } : {}),
    ...(t.intentId ? { intentId: t.intentId } : {}),
    ...(t.module ? { module: t.module } : {}),
    ...(t.via ? { via: t.via } : {}),
    robot: t.robot.map((r) => ({ utteranceId: r.utteranceId, text: r.text })),
    next: t.next,
    tagsAdded: t.tagsAdded,
    ...(t.end ? { end: t.end } : {}),
  };
}

const nodeName = (n: NodeRef | null | undefined) => (n ? `${n.scope}:${n.flowId}/${n.nodeId}` : 'the end');

function turnSummary(t: DialogTurn): string {
  const said = t.robot.map((r) => r.text).join(' ');
  const heard =
    t.input === 'start'
      ? 'call starts'
      : t.calleeKey !== undefined
        ? `callee pressed ${t.calleeKey ?? '?'}`
        : t.input === 'speech' || t.input === 'bargeIn'
          ? `callee said “${t.calleeText ?? ''}”`
          : t.input === 'silence'
            ? 'callee was silent'
            : t.input === 'calleeHangup'
              ? 'callee hung up'
              : t.input === 'transferFailed'
                ? 'no agent took the transfer: back to the robot'
                : 'maximum call duration reached';
  const matched = t.kbEntryId
    ? ` → KB ${t.kbEntryId}`
    : t.branchId
      ? ` → branch ${t.branchId}${t.intentId ? ` (intent ${t.intentId})` : ''}`
      : t.module
        ? ` → module ${t.module}`
        : '';
  const ignored = t.bargeInIgnored ? ' (ignored: the prompt does not allow barge-in)' : '';
  return `turn ${t.seq} at ${nodeName(t.node)}: ${heard}${ignored}${matched}; next ${nodeName(t.next)}${said ? `; robot: ${said}` : ''}`;
}

/** Entries for one finished attempt: dial, ringing, answer, hang-up and result. */
function outcomeEntries(o: AttemptOutcome, eventId: number): TimelineEntry[] {
  const at = { attempt: o.attempt, attemptId: o.attemptId, eventId };
  const started = Date.parse(o.startedAt);
  const ended = Date.parse(o.endedAt);
  const answered = o.answeredAt ? Date.parse(o.answeredAt) : undefined;
  const out: TimelineEntry[] = [
    {
      ...at,
      at: o.startedAt,
      kind: 'ringing',
      summary: `ringing for ${o.ringSeconds} s`,
      until: answered !== undefined ? o.answeredAt : o.endedAt,
      seconds: o.ringSeconds,
    },
  ];
  if (answered !== undefined)
    out.push({ ...at, at: iso(answered), kind: 'answered', summary: 'the callee answered', seconds: o.talkSeconds });
  out.push({
    ...at,
    at: iso(ended),
    kind: 'hangup',
    summary: `hung up by ${o.hangupBy}${o.cause !== undefined ? ` (cause ${o.cause}${o.causeText ? ` ${o.causeText}` : ''})` : ''}`,
    details: {
      hangupBy: o.hangupBy,
      ...(o.cause !== undefined ? { cause: o.cause } : {}),
      ...(o.causeText ? { causeText: o.causeText } : {}),
    },
  });
  out.push({
    ...at,
    at: iso(Math.max(ended, started)),
    kind: 'result',
    summary: `${o.label}${o.detail ? ` (${o.detail})` : ''}: rang ${o.ringSeconds} s, talked ${o.talkSeconds} s`,
    details: {
      code: o.code,
      label: o.label,
      ...(o.detail ? { detail: o.detail } : {}),
      ...(o.note ? { note: o.note } : {}),
      ...(o.tags?.length ? { tags: o.tags } : {}),
      ...(o.dtmf.length ? { dtmf: o.dtmf } : {}),
      ringSeconds: o.ringSeconds,
      talkSeconds: o.talkSeconds,
    },
  });
  return out;
}

function statusFrom(events: DecodedEvent[]): ContactStory['status'] {
  for (let i = events.length - 1; i >= 0; i--) {
    const k = events[i]!.kind;
    if (k === 'completed') return 'completed';
    if (k === 'failed') return 'failed';
    if (k === 'terminated') return 'terminated';
    if (k === 'cancelled') return 'cancelled';
    if (k === 'timedOut') return 'timedOut';
    if (k === 'continuedAsNew') return 'continuedAsNew';
  }
  return 'running';
}

/**
 * The story of one contact workflow's history. `pauses` (from {@link campaignPauses}) mark the seat waits during
 * which the campaign was paused. Entries are in order of time (events of equal time keep history order).
 */
export function contactStory(history: History | string | object, pauses: PauseInterval[] = []): ContactStory {
  const events = decodeHistory(history);
  const entries: TimelineEntry[] = [];
  const attempts = new Map<number, AttemptStory>();
  const scheduled = new Map<number, { activity: string; input: unknown; args: unknown[]; at: number }>();
  const timers = new Map<number, { ms: number; summary?: string; at: number }>();
  const story: ContactStory = { status: statusFrom(events), entries, attempts: [] };
  let seatRequestedAt: { at: number; id: number } | undefined;
  let currentAttempt: AttemptStory | undefined;
  const attemptOf = (place: PlaceCallInput): AttemptStory => {
    let a = attempts.get(place.attempt);
    if (!a) {
      a = { attempt: place.attempt, attemptId: place.attemptId, turns: [], tags: [] };
      attempts.set(place.attempt, a);
    }
    return a;
  };
  const attemptTag = () =>
    currentAttempt ? { attempt: currentAttempt.attempt, attemptId: currentAttempt.attemptId } : {};
  const addTurns = (turns: DialogTurn[] | undefined, eventId: number) => {
    if (!currentAttempt || !turns) return;
    for (const t of turns) {
      if (currentAttempt.turns.some((x) => x.seq === t.seq)) continue; // endCall repeats them all
      currentAttempt.turns.push(t);
      entries.push({
        ...attemptTag(),
        at: iso(t.atMs),
        kind: 'turn',
        summary: turnSummary(t),
        eventId,
        turn: turnOf(t),
      });
      if (t.end?.kind === 'transfer')
        entries.push({
          ...attemptTag(),
          at: iso(t.atMs),
          kind: 'transfer',
          summary: `the robot transferred the call to skill group ${t.end.skillGroupId ?? '?'}`,
          eventId,
          details: { ...t.end },
        });
    }
  };

  for (const e of events) {
    switch (e.kind) {
      case 'started': {
        const input = e.input[0] as
          | { task?: { taskId?: string }; contact?: { index?: number; phone?: string }; campaignWorkflowId?: string }
          | undefined;
        story.taskId = input?.task?.taskId;
        story.contactIndex = input?.contact?.index;
        story.phone = input?.contact?.phone;
        if (story.taskId !== undefined && story.contactIndex !== undefined)
          story.workflowId = `task/${story.taskId}/contact/${story.contactIndex}`;
        entries.push({
          at: iso(e.at),
          kind: 'due',
          summary: e.continuedFromRunId
            ? 'the contact workflow continued in a new run'
            : 'the contact became due: the campaign admitted it',
          eventId: e.id,
        });
        break;
      }
      case 'timerStarted':
        timers.set(e.id, { ms: e.ms, at: e.at, ...(e.summary !== undefined ? { summary: e.summary } : {}) });
        break;
      case 'timerFired':
      case 'timerCancelled': {
        const t = timers.get(e.startedId);
        if (!t) break;
        const reason =
          t.summary?.replace(/^waiting: /, '') ?? 'not recorded (history from before the wait-reasons patch)';
        const cut = e.kind === 'timerCancelled';
        entries.push({
          ...attemptTag(),
          at: iso(t.at),
          kind: 'wait',
          summary: `waited ${secs(e.at - t.at)} s (${reason})${cut ? ', cut short' : ''}`,
          reason,
          until: iso(e.at),
          seconds: secs(e.at - t.at),
          eventId: e.startedId,
          details: { plannedSeconds: secs(t.ms), ended: cut ? 'cancelled' : 'fired' },
        });
        timers.delete(e.startedId);
        break;
      }
      case 'signalSent':
        if (e.signal === 'seatRequest') seatRequestedAt = { at: e.at, id: e.id };
        break;
      case 'signalReceived':
        if (e.signal === 'seatGranted') {
          const from = seatRequestedAt?.at ?? e.at;
          const paused = pauses
            .filter((p) => overlaps(p, from, e.at))
            .map((p) => ({ from: iso(p.from), ...(p.to !== undefined ? { to: iso(p.to) } : {}) }));
          entries.push({
            at: iso(from),
            kind: 'seat',
            summary: `waited ${secs(e.at - from)} s for an AI seat${paused.length ? ' (the task was paused meanwhile)' : ''}`,
            reason: paused.length ? 'no free seat; task paused' : 'no free seat',
            until: iso(e.at),
            seconds: secs(e.at - from),
            eventId: seatRequestedAt?.id ?? e.id,
            ...(paused.length ? { paused } : {}),
          });
          seatRequestedAt = undefined;
        } else if (TRANSFER_SIGNALS[e.signal]) {
          entries.push({
            ...attemptTag(),
            at: iso(e.at),
            kind: 'queue',
            summary: TRANSFER_SIGNALS[e.signal]!,
            eventId: e.id,
          });
        } else if (e.signal === 'cancelContact') {
          entries.push({ at: iso(e.at), kind: 'cancelled', summary: 'the task was cancelled', eventId: e.id });
        }
        break;
      case 'searchAttributes': {
        const status = e.values.WaihuStatus;
        const value: unknown = Array.isArray(status) ? (status as unknown[])[0] : status;
        if (typeof value === 'string')
          entries.push({ ...attemptTag(), at: iso(e.at), kind: 'status', summary: `status ${value}`, eventId: e.id });
        break;
      }
      case 'activityScheduled': {
        const input = e.input[0];
        scheduled.set(e.id, { activity: e.activity, input, args: e.input, at: e.at });
        if (e.activity === 'placeCall') {
          const place = input as PlaceCallInput;
          currentAttempt = attemptOf(place);
          currentAttempt.requestedAt ??= iso(e.at);
          entries.push({
            ...attemptTag(),
            at: iso(e.at),
            kind: 'dial',
            summary: `dial attempt ${place.attempt}${place.callerNumber ? ` from ${place.callerNumber}` : ''}`,
            eventId: e.id,
            details: {
              ...(place.callerNumber ? { callerNumber: place.callerNumber } : {}),
              ...(place.callerNumbers?.length ? { callerNumbers: place.callerNumbers } : {}),
              ...(place.script ? { script: place.script } : {}),
            },
          });
        } else if (e.activity === 'speak' || e.activity === 'listen' || e.activity === 'endCall') {
          addTurns((input as { turns?: DialogTurn[] } | undefined)?.turns, e.id);
          if (e.activity === 'endCall' && currentAttempt) {
            const end = (input as { end?: DialogEnd; tags?: string[] }).end;
            currentAttempt.tags = (input as { tags?: string[] }).tags ?? [];
            if (end) currentAttempt.dialogEnd = end;
          }
        } else if (!['recordAttempt', 'recordSkipped'].includes(e.activity)) {
          // The human transfer's steps (issue #8) and anything newer: named as the workflow named them.
          const known = TRANSFER_STEPS[e.activity];
          entries.push({
            ...attemptTag(),
            at: iso(e.at),
            kind: known?.kind ?? (/queue/i.test(e.activity) ? 'queue' : 'activity'),
            summary: known?.summary ?? `activity ${e.activity}`,
            eventId: e.id,
          });
        }
        break;
      }
      case 'activityStarted':
        if (e.attempt > 1) {
          const s = scheduled.get(e.scheduledId);
          entries.push({
            ...attemptTag(),
            at: iso(e.at),
            kind: 'activity',
            summary: `${s?.activity ?? 'activity'} retried (try ${e.attempt})${e.lastFailure ? ` after: ${e.lastFailure}` : ''}`,
            eventId: e.id,
          });
        }
        break;
      case 'activityCompleted': {
        const s = scheduled.get(e.scheduledId);
        if (!s) break;
        if (s.activity === 'placeCall') {
          const r = e.result as PlaceCallResult;
          const place = s.input as PlaceCallInput;
          const a = attemptOf(place);
          currentAttempt = a;
          if (r.kind === 'completed') {
            a.outcome = r.outcome;
            entries.push(...outcomeEntries(r.outcome, e.id));
          } else if (r.kind === 'answered') {
            entries.push({
              ...attemptTag(),
              at: r.startedAt,
              kind: 'ringing',
              summary: `ringing for ${secs(Date.parse(r.answeredAt) - Date.parse(r.startedAt))} s`,
              until: r.answeredAt,
              seconds: secs(Date.parse(r.answeredAt) - Date.parse(r.startedAt)),
              eventId: e.id,
            });
            entries.push({
              ...attemptTag(),
              at: r.answeredAt,
              kind: 'answered',
              summary: 'the callee answered; the robot’s dialog starts',
              eventId: e.id,
            });
          } else {
            const why =
              r.kind === 'window-closed'
                ? 'closed at the dial-time re-check'
                : r.kind === 'blocked'
                  ? 'on the do-not-call list'
                  : r.reason === 'LINE_BUSY'
                    ? 'all lines busy'
                    : 'frequency cap';
            entries.push({
              ...attemptTag(),
              at: iso(e.at),
              kind: 'dialSkipped',
              summary: `nothing was dialled: ${why}`,
              reason: why,
              eventId: e.id,
              details: { ...r },
            });
          }
        } else if (s.activity === 'endCall') {
          const o = e.result as AttemptOutcome;
          if (currentAttempt) {
            currentAttempt.outcome = o;
            const answeredEntries = outcomeEntries(o, e.id).filter((x) => x.kind === 'hangup' || x.kind === 'result');
            entries.push(...answeredEntries);
          }
        } else if (s.activity === 'recordAttempt') {
          const o = (s.input as { outcome?: AttemptOutcome } | undefined)?.outcome;
          entries.push({
            ...(o ? { attempt: o.attempt, attemptId: o.attemptId } : attemptTag()),
            at: iso(e.at),
            kind: 'recorded',
            summary: `result recorded in the call list${o ? `: ${o.label}` : ''}`,
            eventId: e.id,
          });
        } else if (s.activity === 'recordSkipped') {
          const arg = s.args[3];
          const reason = typeof arg === 'string' ? arg : '';
          entries.push({ at: iso(e.at), kind: 'skipped', summary: `not called: ${reason}`, reason, eventId: e.id });
        }
        break;
      }
      case 'activityFailed':
      case 'activityTimedOut':
      case 'activityCancelled': {
        const s = scheduled.get(e.scheduledId);
        entries.push({
          ...attemptTag(),
          at: iso(e.at),
          kind: s?.activity === 'placeCall' ? 'dialFailed' : 'activity',
          summary: `${s?.activity ?? 'activity'} ${e.kind === 'activityTimedOut' ? 'timed out' : e.kind === 'activityCancelled' ? 'was cancelled' : 'failed'}: ${e.message}`,
          eventId: e.id,
        });
        break;
      }
      case 'completed': {
        const r = e.result as { attempts?: number; skipped?: string; final?: AttemptOutcome } | undefined;
        entries.push({
          at: iso(e.at),
          kind: 'finished',
          summary: `the contact is done after ${r?.attempts ?? 0} attempt(s)${r?.final ? `: ${r.final.label}` : ''}${r?.skipped ? ` (skipped: ${r.skipped})` : ''}`,
          eventId: e.id,
        });
        break;
      }
      case 'failed':
      case 'terminated':
      case 'timedOut':
        entries.push({
          at: iso(e.at),
          kind: 'finished',
          summary: `the contact workflow ${e.kind}${e.message ? `: ${e.message}` : ''}`,
          eventId: e.id,
        });
        break;
      default:
        break;
    }
  }
  // Waits still running: shown up to now, open-ended.
  for (const [id, t] of timers) {
    const reason = t.summary?.replace(/^waiting: /, '') ?? 'not recorded';
    entries.push({
      ...attemptTag(),
      at: iso(t.at),
      kind: 'wait',
      summary: `waiting (${reason}) for up to ${secs(t.ms)} s`,
      reason,
      until: iso(t.at + t.ms),
      eventId: id,
      details: { plannedSeconds: secs(t.ms), ended: 'pending' },
    });
  }
  if (seatRequestedAt)
    entries.push({
      at: iso(seatRequestedAt.at),
      kind: 'seat',
      summary: 'waiting for an AI seat',
      reason: 'no free seat',
      eventId: seatRequestedAt.id,
    });
  // Stable sort by time: history order breaks ties (the sort is stable in V8).
  entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  story.attempts = [...attempts.values()].sort((a, b) => a.attempt - b.attempt);
  return story;
}

/** What the Mongo records said, compared with the history. */
export interface Check {
  check: string;
  ok: boolean;
  detail?: string;
}

/** The call record fields the timeline compares (a subset of the stored outcome). */
export type RecordedCall = Pick<AttemptOutcome, 'code' | 'startedAt' | 'endedAt' | 'hangupBy'> & {
  answeredAt?: string;
};

/** The dialog record fields the timeline compares. */
export interface RecordedDialog {
  turns: DialogTurn[];
  tags: string[];
  end: DialogEnd;
}

/** Compare the history's account of one attempt with its call and dialog records. */
export function crossCheck(story: AttemptStory | undefined, call?: RecordedCall, dialog?: RecordedDialog): Check[] {
  const checks: Check[] = [];
  if (!story) return [{ check: 'the history holds this attempt', ok: false }];
  const o = story.outcome;
  if (call) {
    if (!o) checks.push({ check: 'the history holds the attempt’s outcome', ok: false, detail: 'no outcome yet' });
    else {
      const same = (a?: string, b?: string) => (a ? Date.parse(a) : undefined) === (b ? Date.parse(b) : undefined);
      const diffs = [
        o.code !== call.code ? `result ${o.code} ≠ ${call.code}` : '',
        o.hangupBy !== call.hangupBy ? `hang-up ${o.hangupBy} ≠ ${call.hangupBy}` : '',
        !same(o.startedAt, call.startedAt) ? `start ${o.startedAt} ≠ ${call.startedAt}` : '',
        !same(o.endedAt, call.endedAt) ? `end ${o.endedAt} ≠ ${call.endedAt}` : '',
        !same(o.answeredAt, call.answeredAt) ? `answer ${o.answeredAt} ≠ ${call.answeredAt}` : '',
      ].filter(Boolean);
      checks.push({
        check: 'the call record agrees with the history',
        ok: diffs.length === 0,
        ...(diffs.length ? { detail: diffs.join('; ') } : {}),
      });
    }
  }
  if (dialog) {
    const key = (t: DialogTurn) =>
      JSON.stringify([t.seq, t.atMs, t.input, t.node, t.calleeKey, t.calleeText, t.branchId, t.kbEntryId, t.next]);
    const h = story.turns.map(key);
    const r = dialog.turns.map(key);
    const first = h.findIndex((k, i) => k !== r[i]);
    const ok = h.length === r.length && first === -1;
    checks.push({
      check: 'the dialog record agrees with the history turn by turn',
      ok,
      ...(ok
        ? {}
        : {
            detail: `history ${h.length} turns, record ${r.length}${first >= 0 ? `; first difference at turn ${first + 1}` : ''}`,
          }),
    });
    const tagsOk = JSON.stringify(story.tags) === JSON.stringify(dialog.tags);
    checks.push({
      check: 'the dialog record’s tags agree with the history',
      ok: tagsOk,
      ...(tagsOk ? {} : { detail: `${story.tags.join(',')} ≠ ${dialog.tags.join(',')}` }),
    });
  }
  return checks;
}
