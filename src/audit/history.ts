/**
 * A Temporal workflow history, decoded into plain records an auditor can read: every event with its time, its kind
 * and its decoded payloads. Pure: it reads the history object the client's `fetchHistory()` returns (or a proto-JSON
 * history from `temporal workflow show --output json`, after `historyFromJSON`), and does no I/O.
 *
 * Payloads are decoded with the SDK's default converter (the project uses no codec). Event kinds are recognised by
 * their attribute field, so the code reads histories from the server and from files alike.
 */
import type { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';

export type History = temporal.api.history.v1.IHistory;
type Event = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
type Payload = temporal.api.common.v1.IPayload | null | undefined;

/** One history event, decoded. `id` is the event id; `at` its time in ms since the epoch. */
export type DecodedEvent =
  | { id: number; at: number; kind: 'started'; input: unknown[]; continuedFromRunId?: string }
  | { id: number; at: number; kind: 'completed'; result: unknown }
  | { id: number; at: number; kind: 'failed'; message: string }
  | { id: number; at: number; kind: 'terminated' | 'cancelled' | 'timedOut'; message?: string }
  | { id: number; at: number; kind: 'continuedAsNew'; newRunId?: string }
  | { id: number; at: number; kind: 'timerStarted'; timerId: string; ms: number; summary?: string }
  | { id: number; at: number; kind: 'timerFired' | 'timerCancelled'; timerId: string; startedId: number }
  | { id: number; at: number; kind: 'activityScheduled'; activity: string; activityId: string; input: unknown[] }
  | {
      id: number;
      at: number;
      kind: 'activityStarted';
      scheduledId: number;
      attempt: number;
      lastFailure?: string;
    }
  | { id: number; at: number; kind: 'activityCompleted'; scheduledId: number; result: unknown }
  | {
      id: number;
      at: number;
      kind: 'activityFailed' | 'activityTimedOut' | 'activityCancelled';
      scheduledId: number;
      message: string;
    }
  | { id: number; at: number; kind: 'signalReceived'; signal: string; input: unknown[] }
  | { id: number; at: number; kind: 'signalSent'; signal: string; to: string; input: unknown[] }
  | { id: number; at: number; kind: 'updateAccepted'; update: string; input: unknown[] }
  | { id: number; at: number; kind: 'updateCompleted'; result?: unknown; failure?: string }
  | { id: number; at: number; kind: 'searchAttributes'; values: Record<string, unknown> }
  | { id: number; at: number; kind: 'markerRecorded'; marker: string; details: Record<string, unknown> }
  | { id: number; at: number; kind: 'childStarted'; workflowId: string }
  | { id: number; at: number; kind: 'other'; type: string };

/** Read a history given as the client's object or as proto JSON (a string or parsed). */
export function asHistory(h: History | string | object): History {
  if (typeof h === 'string') return historyFromJSON(JSON.parse(h));
  const events = (h as History).events;
  // Proto JSON has string event types and RFC 3339 times; the client's object has numbers and timestamps.
  if (events?.length && typeof (events[0] as { eventTime?: unknown }).eventTime === 'string') return historyFromJSON(h);
  return h;
}

/** Decode a payload leniently: a payload this converter does not know is shown by its encoding. */
export function decodePayload(p: Payload): unknown {
  if (!p) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(p);
  } catch {
    const enc = p.metadata?.encoding;
    return { undecoded: enc ? Buffer.from(enc).toString() : 'unknown encoding' };
  }
}

const decodeAll = (ps: Payloads): unknown[] => (ps?.payloads ?? []).map((p) => decodePayload(p));
/** Numbers as the client gives them (protobufjs Long) or as JSON gives them (string or number). */
const num = (v: unknown): number => {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function')
    return (v as { toNumber(): number }).toNumber();
  return Number(v);
};
const ms = (d: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  d ? num(d.seconds) * 1000 + Math.round((d.nanos ?? 0) / 1e6) : 0;

function failureMessage(f: temporal.api.failure.v1.IFailure | null | undefined): string {
  const parts: string[] = [];
  for (let x = f, depth = 0; x && depth < 5; x = x.cause, depth++) if (x.message) parts.push(x.message);
  return parts.join(': ') || 'failed';
}

/** Decode every event of a history, in order. */
export function decodeHistory(input: History | string | object): DecodedEvent[] {
  const history = asHistory(input);
  return (history.events ?? []).map((e) => decodeEvent(e));
}

function decodeEvent(e: Event): DecodedEvent {
  const id = num(e.eventId);
  const at = ms(e.eventTime);
  const base = { id, at };
  if (e.workflowExecutionStartedEventAttributes) {
    const a = e.workflowExecutionStartedEventAttributes;
    return {
      ...base,
      kind: 'started',
      input: decodeAll(a.input),
      ...(a.continuedExecutionRunId ? { continuedFromRunId: a.continuedExecutionRunId } : {}),
    };
  }
  if (e.workflowExecutionCompletedEventAttributes)
    return { ...base, kind: 'completed', result: decodeAll(e.workflowExecutionCompletedEventAttributes.result)[0] };
  if (e.workflowExecutionFailedEventAttributes)
    return { ...base, kind: 'failed', message: failureMessage(e.workflowExecutionFailedEventAttributes.failure) };
  if (e.workflowExecutionTerminatedEventAttributes)
    return { ...base, kind: 'terminated', message: e.workflowExecutionTerminatedEventAttributes.reason ?? '' };
  if (e.workflowExecutionCanceledEventAttributes) return { ...base, kind: 'cancelled' };
  if (e.workflowExecutionTimedOutEventAttributes) return { ...base, kind: 'timedOut' };
  if (e.workflowExecutionContinuedAsNewEventAttributes) {
    const runId = e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId;
    return { ...base, kind: 'continuedAsNew', ...(runId ? { newRunId: runId } : {}) };
  }
  if (e.timerStartedEventAttributes) {
    const a = e.timerStartedEventAttributes;
    const summary = decodePayload(e.userMetadata?.summary);
    return {
      ...base,
      kind: 'timerStarted',
      timerId: a.timerId ?? '',
      ms: ms(a.startToFireTimeout),
      ...(typeof summary === 'string' ? { summary } : {}),
    };
  }
  if (e.timerFiredEventAttributes)
    return {
      ...base,
      kind: 'timerFired',
      timerId: e.timerFiredEventAttributes.timerId ?? '',
      startedId: num(e.timerFiredEventAttributes.startedEventId),
    };
  if (e.timerCanceledEventAttributes)
    return {
      ...base,
      kind: 'timerCancelled',
      timerId: e.timerCanceledEventAttributes.timerId ?? '',
      startedId: num(e.timerCanceledEventAttributes.startedEventId),
    };
  if (e.activityTaskScheduledEventAttributes) {
    const a = e.activityTaskScheduledEventAttributes;
    return {
      ...base,
      kind: 'activityScheduled',
      activity: a.activityType?.name ?? '',
      activityId: a.activityId ?? '',
      input: decodeAll(a.input),
    };
  }
  if (e.activityTaskStartedEventAttributes) {
    const a = e.activityTaskStartedEventAttributes;
    return {
      ...base,
      kind: 'activityStarted',
      scheduledId: num(a.scheduledEventId),
      attempt: a.attempt ?? 1,
      ...(a.lastFailure ? { lastFailure: failureMessage(a.lastFailure) } : {}),
    };
  }
  if (e.activityTaskCompletedEventAttributes) {
    const a = e.activityTaskCompletedEventAttributes;
    return { ...base, kind: 'activityCompleted', scheduledId: num(a.scheduledEventId), result: decodeAll(a.result)[0] };
  }
  if (e.activityTaskFailedEventAttributes) {
    const a = e.activityTaskFailedEventAttributes;
    return {
      ...base,
      kind: 'activityFailed',
      scheduledId: num(a.scheduledEventId),
      message: failureMessage(a.failure),
    };
  }
  if (e.activityTaskTimedOutEventAttributes) {
    const a = e.activityTaskTimedOutEventAttributes;
    return {
      ...base,
      kind: 'activityTimedOut',
      scheduledId: num(a.scheduledEventId),
      message: failureMessage(a.failure),
    };
  }
  if (e.activityTaskCanceledEventAttributes) {
    const a = e.activityTaskCanceledEventAttributes;
    return { ...base, kind: 'activityCancelled', scheduledId: num(a.scheduledEventId), message: 'cancelled' };
  }
  if (e.workflowExecutionSignaledEventAttributes) {
    const a = e.workflowExecutionSignaledEventAttributes;
    return { ...base, kind: 'signalReceived', signal: a.signalName ?? '', input: decodeAll(a.input) };
  }
  if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) {
    const a = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
    return {
      ...base,
      kind: 'signalSent',
      signal: a.signalName ?? '',
      to: a.workflowExecution?.workflowId ?? '',
      input: decodeAll(a.input),
    };
  }
  if (e.workflowExecutionUpdateAcceptedEventAttributes) {
    const req = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest;
    return { ...base, kind: 'updateAccepted', update: req?.input?.name ?? '', input: decodeAll(req?.input?.args) };
  }
  if (e.workflowExecutionUpdateCompletedEventAttributes) {
    const o = e.workflowExecutionUpdateCompletedEventAttributes.outcome;
    return {
      ...base,
      kind: 'updateCompleted',
      ...(o?.success ? { result: decodeAll(o.success)[0] } : {}),
      ...(o?.failure ? { failure: failureMessage(o.failure) } : {}),
    };
  }
  if (e.upsertWorkflowSearchAttributesEventAttributes) {
    const fields = e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {};
    return {
      ...base,
      kind: 'searchAttributes',
      values: Object.fromEntries(Object.entries(fields).map(([k, p]) => [k, decodePayload(p)])),
    };
  }
  if (e.markerRecordedEventAttributes) {
    const a = e.markerRecordedEventAttributes;
    return {
      ...base,
      kind: 'markerRecorded',
      marker: a.markerName ?? '',
      details: Object.fromEntries(Object.entries(a.details ?? {}).map(([k, p]) => [k, decodeAll(p)])),
    };
  }
  if (e.childWorkflowExecutionStartedEventAttributes)
    return {
      ...base,
      kind: 'childStarted',
      workflowId: e.childWorkflowExecutionStartedEventAttributes.workflowExecution?.workflowId ?? '',
    };
  return { ...base, kind: 'other', type: String(e.eventType ?? 'unknown') };
}
