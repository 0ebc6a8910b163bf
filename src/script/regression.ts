/**
 * Script regression check (issue #9 item 5): replay the dialogs recorded from real calls of one script version through
 * another version and report, per call, the first turn that would now go differently — so a reviewer sees what a
 * change does to real conversations before approving it.
 *
 * Each recorded call is re-run through a {@link ConsoleSession} of the new script (the same matcher and engine wiring
 * as the text console), fed the callee's side of every recorded turn: speech → words, a key → the key, silence →
 * silence, words over a prompt → a barge-in, the maximum duration → time passing to the recorded instant, a hang-up →
 * a hang-up. The clock follows the recorded turns: before each input, time advances to that turn's instant as a
 * deadline probe, which is what the call's timer does, so a shorter 最大通话时长 shows up as an earlier `deadline` turn.
 * Each new turn is compared with the recorded one on what the dialog decided — input kind, node, ignored barge-in,
 * branch (type and id), intent, KB entry, global module, next node and end — never on wording.
 *
 * Known limits, on purpose:
 * - **Variables are not compared**: a dialog record keeps no contact variables, so replays run with the variables
 *   given (none by default). Variables only fill the wording, which is not compared.
 * - A barge-in is replayed over the whole prompt being played (the record does not say which utterance it cut), and
 *   a key pressed over a prompt is replayed as pressed after it; that gives the same decision when the barge-in was
 *   honoured. A key that was IGNORED over a prompt cannot be replayed by the console: such a call is reported
 *   `notReplayable` from that turn on (the turns before it were compared and agreed).
 * - Speech is re-classified by the new version's matcher from the recorded text (the ASR result), so a changed
 *   intent, keyword or threshold shows up exactly as it would in a call.
 *
 * Pure (no I/O, no clock); Node only, because the matcher needs RE2.
 */
import { ConsoleSession, type ConsoleInput } from './console';
import type { DialogTurn } from './engine';
import type { NodeRef, Script } from './model';

/** A call's dialog as recorded (the `dialogs` collection), with whatever identifies it in the report. */
export interface RecordedDialog {
  /** The attempt id (the record's `_id`). */
  id: string;
  turns: DialogTurn[];
  /** The contact's variables, if the caller has them (dialog records do not). */
  variables?: Record<string, string>;
}

/** What is compared per turn, in this order; `turn` = one side has no turn there at all. */
export const COMPARED_FIELDS = [
  'input',
  'node',
  'bargeInIgnored',
  'branchType',
  'branchId',
  'intentId',
  'kbEntryId',
  'module',
  'next',
  'end',
] as const;
export type ComparedField = (typeof COMPARED_FIELDS)[number] | 'turn';

/** The first turn that goes differently. `before` is the recorded value, `after` the replayed one (null = absent). */
export interface TurnDifference {
  seq: number;
  field: ComparedField;
  before: unknown;
  after: unknown;
  /** What the callee did at that turn (from the record; for a turn only the replay has, from the replay). */
  heard: { input: DialogTurn['input']; calleeText?: string; calleeKey?: string };
  /** Where the recorded turn was classified (the replayed one's, if only the replay has it). */
  node: NodeRef;
}

export type CallRegression =
  | { id: string; status: 'same'; turns: number }
  | { id: string; status: 'different'; turns: number; first: TurnDifference }
  /** Turns before `seq` agreed; the turn at `seq` cannot be replayed (see the module's limits). */
  | { id: string; status: 'notReplayable'; turns: number; seq: number; reason: string };

export interface RegressionReport {
  calls: CallRegression[];
  same: number;
  different: number;
  notReplayable: number;
}

/** Replay every recorded dialog through `script`. */
export function checkRegression(script: Script, dialogs: readonly RecordedDialog[]): RegressionReport {
  const calls = dialogs.map((d) => replayDialog(script, d));
  const count = (s: CallRegression['status']) => calls.filter((c) => c.status === s).length;
  return { calls, same: count('same'), different: count('different'), notReplayable: count('notReplayable') };
}

/** Replay one recorded dialog through `script` and compare turn by turn. */
export function replayDialog(script: Script, recorded: RecordedDialog): CallRegression {
  const turns = [...recorded.turns].sort((a, b) => a.seq - b.seq);
  const id = recorded.id;
  const start = turns[0];
  if (!start || start.input !== 'start') {
    return { id, status: 'notReplayable', turns: turns.length, seq: start?.seq ?? 0, reason: 'no start turn' };
  }
  // stepMs 0: the clock moves only to the recorded instants (see the deadline probe below).
  const session = new ConsoleSession(script, recorded.variables ?? {}, { startMs: start.atMs, stepMs: 0 });
  const ended = () => session.dialogState.phase === 'ended';
  let nowMs = start.atMs;
  let stop: { seq: number; reason: string } | undefined;

  for (const turn of turns.slice(1)) {
    if (ended()) break;
    const input = inputOf(turn);
    if ('reason' in input) {
      stop = { seq: turn.seq, reason: input.reason };
      break;
    }
    const waitMs = Math.max(0, turn.atMs - nowMs);
    nowMs += waitMs;
    if (input.deadline) {
      session.send({ waitMs });
      continue;
    }
    // The call's timer at the maximum duration: fires here if the new version's deadline has passed by now.
    if (waitMs > 0) session.send({ waitMs });
    if (ended()) break;
    session.send(input.send);
  }

  const replayed = session.turns;
  const upTo = stop ? turns.findIndex((t) => t.seq === stop.seq) : Math.max(turns.length, replayed.length);
  for (let i = 0; i < upTo; i++) {
    const first = compareTurn(turns[i], replayed[i]);
    if (first) return { id, status: 'different', turns: turns.length, first };
  }
  if (stop) return { id, status: 'notReplayable', turns: turns.length, ...stop };
  return { id, status: 'same', turns: turns.length };
}

type Replayable = { send: ConsoleInput; deadline?: false } | { deadline: true } | { reason: string };

/** The console input that reproduces what the callee (or the call's timer) did at a recorded turn. */
function inputOf(turn: DialogTurn): Replayable {
  switch (turn.input) {
    case 'speech':
      return { send: turn.calleeText ?? '' };
    case 'dtmf':
      return turn.calleeKey !== undefined
        ? { send: { key: turn.calleeKey } }
        : { reason: 'a key turn without its key' };
    case 'silence':
      return { send: { silence: true } };
    case 'bargeIn':
      if (turn.calleeKey !== undefined) {
        return turn.bargeInIgnored
          ? {
              reason:
                'a key pressed over a prompt that did not allow barge-in (the console cannot press keys over a prompt)',
            }
          : { send: { key: turn.calleeKey } };
      }
      return { send: { bargeIn: turn.calleeText ?? '' } };
    case 'deadline':
      return { deadline: true };
    case 'calleeHangup':
      return { send: { hangup: true } };
    case 'start':
      return { reason: 'a second start turn' };
    case 'transferFailed':
      return { reason: 'the transfer found no agent and the robot took the call back (the console cannot transfer)' };
  }
}

/** The recorded and the replayed turn at one position: their first differing field, or undefined. */
function compareTurn(before: DialogTurn | undefined, after: DialogTurn | undefined): TurnDifference | undefined {
  const base = before ?? after;
  if (!base) return undefined;
  const heard: TurnDifference['heard'] = { input: base.input };
  if (base.calleeText !== undefined) heard.calleeText = base.calleeText;
  if (base.calleeKey !== undefined) heard.calleeKey = base.calleeKey;
  const diff = (field: ComparedField, b: unknown, a: unknown): TurnDifference => ({
    seq: base.seq,
    field,
    before: b,
    after: a,
    heard,
    node: base.node,
  });
  if (!before || !after) return diff('turn', before ? summary(before) : null, after ? summary(after) : null);
  for (const field of COMPARED_FIELDS) {
    const b = valueOf(before, field);
    const a = valueOf(after, field);
    if (canonical(b) !== canonical(a)) return diff(field, b ?? null, a ?? null);
  }
  return undefined;
}

function valueOf(turn: DialogTurn, field: (typeof COMPARED_FIELDS)[number]): unknown {
  switch (field) {
    case 'input':
      // The maximum duration ends the call at whatever input comes first (the timer, or words heard just after).
      if (turn.module === 'maxDuration') return 'deadline';
      // An honoured key over a prompt is replayed as a key after it: the same decision, a different input kind.
      return turn.input === 'bargeIn' && turn.calleeKey !== undefined && !turn.bargeInIgnored ? 'dtmf' : turn.input;
    case 'bargeInIgnored':
      return turn.bargeInIgnored === true;
    case 'node':
    case 'next':
      return nodeOf(turn[field]);
    case 'end':
      return turn.end ? { kind: turn.end.kind, reason: turn.end.reason, skillGroupId: turn.end.skillGroupId } : null;
    default:
      return turn[field];
  }
}

const nodeOf = (ref: NodeRef | null | undefined) =>
  ref ? { scope: ref.scope, flowId: ref.flowId, nodeId: ref.nodeId } : null;

const summary = (t: DialogTurn) => ({ input: t.input, node: nodeOf(t.node), next: nodeOf(t.next) });

/** Order-independent JSON (stored documents may order keys differently), undefined fields dropped. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
