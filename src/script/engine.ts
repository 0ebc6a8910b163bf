/**
 * The dialog engine: a pure, deterministic state machine over a {@link Script}, run INSIDE the per-call workflow.
 *
 * **Workflow-safe on purpose.** It imports nothing from Node, does no I/O, reads no clock (the caller passes
 * `nowMs`, i.e. the workflow's `Date.now()`), draws no random numbers, and never compiles a user regex: it must not
 * import `re2` or `./matcher` (a native module cannot load in the workflow sandbox). Speech is classified outside,
 * by an activity running the matcher, and arrives here as a {@link MatchResult}; a DTMF key is classified here by
 * exact lookup ({@link matchDtmf}). The state is plain JSON: it travels in workflow history and continue-as-new.
 *
 * Protocol. Every step returns actions for the runtime to perform in order. A step that speaks returns `play`
 * actions and leaves the state `speaking`; the runtime plays them and answers `playbackDone` (or `bargeIn` if the
 * callee spoke over an interruptible prompt), and only then gets the `listen`, `hangup` or `transfer` that follows.
 * A `listen` ends with `speech`, `dtmf` or `silence` (the timeout). The runtime also arms a timer at `deadlineMs`
 * and sends `deadline` when it fires (最大通话时长); every step checks the deadline too.
 *
 * Per reply, in the seed's matching order (seed-spec §1.8): the current node's lit branches, then the knowledge
 * base, then the global modules. In detail:
 * - 任何回复 takes every non-silent reply at its node (it is exclusive of the other six, so there is nothing else
 *   to try there) — enforced here as well as in the matcher.
 * - Silence: 累计无回复 at its threshold, else the node's lit 无回复 branch, else the 无回复 module's step n (n = the
 *   consecutive silent turns at this node), else the node is replayed (its next utterance).
 * - Nothing recognised: 累计未识别 at its threshold (consecutive unrecognised turns in the call, DECISION C6), else
 *   the node's lit 未识别 branch, else the 未识别 module's step n, else the node is replayed.
 * - A KB question: 重复问题 when this entry's asks reach its threshold, 太多问题 when a new entry makes the count of
 *   distinct entries reach its threshold; otherwise the answer (the n-th ask gets answer n) and its post-answer
 *   action, or the KB flow. KB flows never chain: inside one, a KB-flow entry is treated as unrecognised.
 * Counting: the consecutive runs restart when the callee is recognised (a branch, a KB entry or a global intent)
 * and when the dialog enters a node; speech of any kind ends a silent run; 累计无回复 never restarts.
 */
import { entryRef, fillVariables, findNode, followBranch, matchDtmf, refKey, sameRef } from './graph';
import {
  type BranchType,
  type CounterModule,
  type GlobalModuleKey,
  type MatchResult,
  type MatchVia,
  type ModuleAction,
  type NodeRef,
  type PostAnswerAction,
  type Script,
  type StepModule,
  type Utterance,
} from './model';

/** Why the robot ended the call. */
export type EndReason =
  /** A jump node's 挂机 or 转接. */
  | 'jumpNode'
  /** A KB answer's 挂机 or 转接. */
  | 'kbAnswer'
  /** A global module's action (no-reply / unrecognised step, a counter, the maximum duration). */
  | GlobalModuleKey
  /** The script led nowhere: a branch without an edge, a missing flow, or a chain of jumps that never listens. */
  | 'deadEnd';

export type DialogInput =
  | { kind: 'speech'; text: string; match: MatchResult }
  /** A key; pressed during playback, `utteranceId` = the prompt it was pressed over, if the runtime knows. */
  | { kind: 'dtmf'; digit: string; utteranceId?: string }
  | { kind: 'silence' }
  /** Speech heard while the robot was playing; `utteranceId` = the play it interrupted, if the runtime knows. */
  | { kind: 'bargeIn'; text: string; match: MatchResult; utteranceId?: string }
  | { kind: 'playbackDone' }
  /** The runtime's timer at `deadlineMs` fired. */
  | { kind: 'deadline' }
  /** The callee hung up; closes the state, no actions. */
  | { kind: 'calleeHangup' };

export interface SpokenUtterance {
  utteranceId: string;
  text: string;
}

/** One entry of the dialog log (对话记录): what the robot heard, how it was classified, what it said, where it went. */
export interface DialogTurn {
  seq: number;
  atMs: number;
  input: 'start' | 'speech' | 'dtmf' | 'silence' | 'bargeIn' | 'deadline' | 'calleeHangup' | 'transferFailed';
  /** The node whose branches the input was classified against (for `start`, the first node). */
  node: NodeRef;
  calleeText?: string;
  calleeKey?: string;
  /** A barge-in over a prompt that does not allow it: logged, otherwise ignored. */
  bargeInIgnored?: boolean;
  branchType?: BranchType;
  branchId?: string;
  intentId?: string;
  kbEntryId?: string;
  /** The global module that answered this turn. */
  module?: GlobalModuleKey;
  via?: MatchVia;
  score?: number;
  robot: SpokenUtterance[];
  /** Where the dialog listens next; null once it has ended. */
  next: NodeRef | null;
  tagsAdded: string[];
  end?: { kind: 'hangup' | 'transfer'; reason: EndReason; skillGroupId?: string };
}

export type DialogAction =
  | {
      type: 'play';
      utteranceId: string;
      /** Final text, variables filled. */
      text: string;
      /** The callee may cut this prompt short (允许打断). */
      allowInterrupt: boolean;
      /** Listen during playback: it may be interrupted, or the 打断意图 module is on. */
      detectSpeech: boolean;
      missingVariables?: string[];
    }
  | { type: 'stopPlayback' }
  | { type: 'listen'; timeoutMs: number; deadlineMs: number | null }
  | { type: 'hangup'; reason: EndReason; tags: string[] }
  | { type: 'transfer'; skillGroupId: string; reason: EndReason; tags: string[] }
  | { type: 'turn'; turn: DialogTurn };

type After =
  | { kind: 'listen' }
  | { kind: 'hangup'; reason: EndReason }
  | { kind: 'transfer'; skillGroupId: string; reason: EndReason };

/** Per-call counters; persisted with the dialog record so a hang-up can be explained (seed-spec §1.10). */
export interface DialogCounters {
  /** 累计无回复: silent turns in the whole call. */
  noReplyTotal: number;
  /** Consecutive silent turns at the current node (无回复模块 step). */
  noReplyRun: number;
  /** Consecutive unrecognised turns at the current node (未识别模块 step). */
  unrecognizedRun: number;
  /** 累计未识别 (C6): consecutive unrecognised turns in the call, across nodes. */
  unrecognizedStreak: number;
  /** Repeats granted by 重说意图. */
  repeats: number;
  /** Asks per KB entry id (一问多答, 重复问题; the key count is 太多问题's distinct questions). */
  kbAsks: Record<string, number>;
}

export interface DialogState {
  v: 1;
  phase: 'speaking' | 'listening' | 'ended';
  startedAtMs: number;
  /** 最大通话时长 deadline; null when the module is disabled. */
  deadlineMs: number | null;
  variables: Record<string, string>;
  /** The node whose branches classify the next reply. */
  at: NodeRef;
  /** During a KB digression (a KB flow, or listening after a KB answer in one), the main-flow node it left. */
  origin: NodeRef | null;
  /** What follows the current speech. */
  after: After;
  /** The prompts being played (while `speaking`) with their barge-in permission. */
  speaking: { utteranceId: string; allowInterrupt: boolean }[];
  /** What the robot last said (for 重说). */
  lastSpoken: SpokenUtterance[];
  /** Entries per node (by {@link refKey}) — the utterance rotation. */
  visits: Record<string, number>;
  counters: DialogCounters;
  tags: string[];
  seq: number;
  end: { kind: 'hangup' | 'transfer'; reason: EndReason; skillGroupId?: string } | null;
}

export interface DialogStep {
  state: DialogState;
  actions: DialogAction[];
}

/** A chain of jump nodes longer than this without a listen is a loop (e.g. flow A jumps to B, B to A). */
export const MAX_JUMP_HOPS = 32;

/** Work in progress of one step: mutated freely, the input state is never touched. */
interface Draft {
  script: Script;
  s: DialogState;
  nowMs: number;
  plays: Extract<DialogAction, { type: 'play' }>[];
  turn: DialogTurn;
  /** A repeat keeps `lastSpoken` as it was rather than remembering itself. */
  keepLastSpoken?: boolean;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * Start the dialog at the entry of the first main flow: the greeting, then a listen.
 * A script without a runnable entry (validation refuses it on submission) ends at once with reason `deadEnd`.
 */
export function startDialog(script: Script, variables: Record<string, string>, nowMs: number): DialogStep {
  const maxDuration = script.globalConfig.maxDuration;
  const firstFlow = script.flows[0];
  const entry = firstFlow ? entryRef(script, 'main', firstFlow.id) : undefined;
  const placeholder: NodeRef = { scope: 'main', flowId: firstFlow?.id ?? '', nodeId: firstFlow?.entryNodeId ?? '' };
  const s: DialogState = {
    v: 1,
    phase: 'listening',
    startedAtMs: nowMs,
    deadlineMs: maxDuration.enabled ? nowMs + maxDuration.seconds * 1000 : null,
    variables: { ...variables },
    at: entry ?? placeholder,
    origin: null,
    after: { kind: 'listen' },
    speaking: [],
    lastSpoken: [],
    visits: {},
    counters: { noReplyTotal: 0, noReplyRun: 0, unrecognizedRun: 0, unrecognizedStreak: 0, repeats: 0, kbAsks: {} },
    tags: [],
    seq: 0,
    end: null,
  };
  const d = newDraft(script, s, nowMs, 'start');
  if (entry) enter(d, entry);
  else finish(d, { kind: 'hangup', reason: 'deadEnd' });
  return flush(d);
}

/**
 * Back to the robot after a transfer that found no agent (the task's queue-timeout fallback): the dialog that ended in
 * a transfer opens again at the entry of the main flow `flowId`, as if a jump node had led there. The turn records
 * input `transferFailed`. A state that did not end in a transfer, or a flow that does not exist, ends the call as a
 * dead end (the caller checks the flow when the task is created).
 */
export function resumeAfterTransfer(script: Script, state: DialogState, flowId: string, nowMs: number): DialogStep {
  const s = clone(state);
  if (s.phase !== 'ended' || s.end?.kind !== 'transfer') return { state: s, actions: [] };
  s.phase = 'listening';
  s.end = null;
  s.after = { kind: 'listen' };
  s.origin = null;
  const d = newDraft(script, s, nowMs, 'transferFailed');
  goTo(d, entryRef(script, 'main', flowId));
  return flush(d);
}

/** Advance the dialog by one input. Never mutates `state`; an input that does not apply returns no actions. */
export function stepDialog(script: Script, state: DialogState, input: DialogInput, nowMs: number): DialogStep {
  const s = clone(state);
  if (s.phase === 'ended') return { state: s, actions: [] };

  if (input.kind === 'calleeHangup') {
    const d = newDraft(script, s, nowMs, 'calleeHangup');
    s.phase = 'ended';
    d.turn.next = null;
    return { state: s, actions: [{ type: 'turn', turn: d.turn }] };
  }

  // 最大通话时长: checked on every input, whatever the phase, so a lost timer cannot keep a call alive — unless the
  // call is already ending (a farewell is playing), which the deadline must not restart.
  if (s.deadlineMs !== null && nowMs >= s.deadlineMs && s.after.kind === 'listen') {
    const d = newDraft(script, s, nowMs, input.kind === 'deadline' ? 'deadline' : inputKind(input));
    describeInput(d, input);
    const stop: DialogAction[] = s.phase === 'speaking' ? [{ type: 'stopPlayback' }] : [];
    s.phase = 'listening';
    d.turn.module = 'maxDuration';
    const u = script.globalConfig.maxDuration.utterance;
    if (u) play(d, u, false);
    finish(d, { kind: 'hangup', reason: 'maxDuration' });
    const out = flush(d);
    return { state: out.state, actions: [...stop, ...out.actions] };
  }
  if (input.kind === 'deadline') return { state: s, actions: [] };

  if (input.kind === 'playbackDone') {
    if (s.phase !== 'speaking') return { state: s, actions: [] };
    s.speaking = [];
    return { state: s, actions: [afterAction(script, s)] };
  }

  if (s.phase === 'speaking') {
    // Silence cannot happen during playback; a key or speech heard then is a barge-in.
    if (input.kind === 'silence') return { state: s, actions: [] };
    const text = input.kind === 'dtmf' ? undefined : input.text;
    const utteranceId = input.kind === 'bargeIn' || input.kind === 'dtmf' ? input.utteranceId : undefined;
    return bargeIn(script, s, input, text, utteranceId, nowMs);
  }

  // Listening.
  if (input.kind === 'bargeIn')
    return reply(script, s, { kind: 'speech', text: input.text, match: input.match }, nowMs);
  return reply(script, s, input, nowMs);
}

function inputKind(input: DialogInput): DialogTurn['input'] {
  return input.kind === 'playbackDone' ? 'deadline' : input.kind;
}

function newDraft(script: Script, s: DialogState, nowMs: number, input: DialogTurn['input']): Draft {
  s.seq += 1;
  return {
    script,
    s,
    nowMs,
    plays: [],
    turn: { seq: s.seq, atMs: nowMs, input, node: { ...s.at }, robot: [], next: null, tagsAdded: [] },
  };
}

function describeInput(d: Draft, input: DialogInput): void {
  if (input.kind === 'speech' || input.kind === 'bargeIn') d.turn.calleeText = input.text;
  if (input.kind === 'dtmf') d.turn.calleeKey = input.digit;
}

/** Barge-in while speaking: honoured only over an interruptible prompt that is followed by a listen. */
function bargeIn(
  script: Script,
  s: DialogState,
  input: Extract<DialogInput, { kind: 'speech' | 'dtmf' | 'bargeIn' }>,
  text: string | undefined,
  utteranceId: string | undefined,
  nowMs: number,
): DialogStep {
  const interrupted = utteranceId ? s.speaking.filter((p) => p.utteranceId === utteranceId) : s.speaking;
  const allowed = interrupted.length > 0 && interrupted.every((p) => p.allowInterrupt);
  const match = input.kind === 'dtmf' ? matchDtmf(script, s.at, input.digit) : input.match;
  const interruptIntent =
    script.globalConfig.interrupt.enabled && match.kind === 'global' && match.module === 'interrupt';
  const listensNext = s.after.kind === 'listen';

  if (listensNext && allowed) {
    s.phase = 'listening';
    s.speaking = [];
    const asReply: DialogInput =
      input.kind === 'dtmf' ? input : { kind: 'speech', text: text ?? '', match: input.match };
    const out = reply(script, s, asReply, nowMs, true);
    return { state: out.state, actions: [{ type: 'stopPlayback' }, ...out.actions] };
  }
  if (listensNext && interruptIntent) {
    s.phase = 'listening';
    s.speaking = [];
    const d = newDraft(script, s, nowMs, 'bargeIn');
    describeInput(d, input);
    classified(d, match);
    d.turn.module = 'interrupt';
    const u = script.globalConfig.interrupt.utterance;
    if (u) play(d, u, false);
    d.keepLastSpoken = true;
    s.after = { kind: 'listen' };
    const out = flush(d);
    return { state: out.state, actions: [{ type: 'stopPlayback' }, ...out.actions] };
  }
  const d = newDraft(script, s, nowMs, 'bargeIn');
  describeInput(d, input);
  d.turn.bargeInIgnored = true;
  d.turn.next = { ...s.at };
  return { state: s, actions: [{ type: 'turn', turn: d.turn }] };
}

/** A reply (or silence) while listening at `s.at`. */
function reply(
  script: Script,
  s: DialogState,
  input: Extract<DialogInput, { kind: 'speech' | 'dtmf' | 'silence' }>,
  nowMs: number,
  wasBargeIn = false,
): DialogStep {
  const silent = input.kind === 'silence' || (input.kind === 'speech' && input.text.trim() === '');
  const d = newDraft(script, s, nowMs, wasBargeIn ? 'bargeIn' : input.kind);
  describeInput(d, input);
  if (silent) {
    onSilence(d);
    return flush(d);
  }
  s.counters.noReplyRun = 0;
  let match: MatchResult = input.kind === 'dtmf' ? matchDtmf(script, s.at, input.digit) : input.match;
  const node = findNode(script, s.at);
  // 任何回复 is exclusive: at such a node every reply takes it, whatever the matcher said.
  const any = node?.kind === 'normal' ? node.branches.find((b) => b.type === 'ANY') : undefined;
  if (any && !(match.kind === 'branch' && match.branchId === any.id)) {
    match = { kind: 'branch', branchId: any.id, branchType: 'ANY', score: 1, via: 'any' };
  }
  onMatch(d, match);
  return flush(d);
}

function classified(d: Draft, match: MatchResult): void {
  d.turn.score = match.score;
  if (match.kind === 'none') return;
  d.turn.via = match.via;
  if (match.kind === 'branch') {
    d.turn.branchId = match.branchId;
    d.turn.branchType = match.branchType;
    if (match.intentId) d.turn.intentId = match.intentId;
  } else if (match.kind === 'kb') {
    d.turn.kbEntryId = match.kbEntryId;
  } else {
    d.turn.intentId = match.intentId;
  }
}

function recognised(s: DialogState): void {
  s.counters.unrecognizedRun = 0;
  s.counters.unrecognizedStreak = 0;
}

function onMatch(d: Draft, match: MatchResult): void {
  const { script, s } = d;
  const node = findNode(script, s.at);
  if (match.kind === 'branch') {
    const branch = node?.kind === 'normal' ? node.branches.find((b) => b.id === match.branchId) : undefined;
    // A classification computed against another node (a stale match) is not trusted.
    if (!branch) return onUnrecognised(d);
    classified(d, { ...match, branchType: branch.type });
    recognised(s);
    return goTo(d, followBranch(script, s.at, branch.id));
  }
  if (match.kind === 'kb') {
    const entry = script.kbEntries.find((e) => e.id === match.kbEntryId);
    // KB flows do not chain (§1.9): a KB-flow entry asked inside a KB flow is not answered.
    if (!entry || (entry.answer.mode === 'flow' && s.at.scope === 'kb')) return onUnrecognised(d);
    classified(d, match);
    recognised(s);
    return onKbEntry(d, entry.id);
  }
  if (match.kind === 'global') {
    const { repeat, interrupt } = script.globalConfig;
    if (match.module === 'repeat' && repeat.enabled && s.counters.repeats < repeat.threshold) {
      classified(d, match);
      recognised(s);
      s.counters.repeats += 1;
      d.turn.module = 'repeat';
      if (repeat.utterance) play(d, repeat.utterance, false);
      for (const spoken of s.lastSpoken) {
        d.plays.push(playAction(d, spoken.utteranceId, spoken.text, interruptibleAt(d), []));
        d.turn.robot.push(spoken);
      }
      d.keepLastSpoken = true;
      s.after = { kind: 'listen' };
      return;
    }
    if (match.module === 'interrupt' && interrupt.enabled) {
      classified(d, match);
      recognised(s);
      d.turn.module = 'interrupt';
      if (interrupt.utterance) play(d, interrupt.utterance, false);
      d.keepLastSpoken = true;
      s.after = { kind: 'listen' };
      return;
    }
  }
  onUnrecognised(d);
}

function onKbEntry(d: Draft, entryId: string): void {
  const { script, s } = d;
  const entry = script.kbEntries.find((e) => e.id === entryId)!;
  const asks = (s.counters.kbAsks[entry.id] ?? 0) + 1;
  s.counters.kbAsks[entry.id] = asks;
  const { repeatedQuestion, tooManyQuestions } = script.globalConfig;
  if (repeatedQuestion.enabled && asks >= repeatedQuestion.threshold) {
    return fireCounter(d, 'repeatedQuestion', repeatedQuestion);
  }
  const distinct = Object.keys(s.counters.kbAsks).length;
  if (tooManyQuestions.enabled && asks === 1 && distinct >= tooManyQuestions.threshold) {
    return fireCounter(d, 'tooManyQuestions', tooManyQuestions);
  }
  addTags(d, entry.tags ?? []);
  const home = s.at.scope === 'main' ? s.at : s.origin;
  if (entry.answer.mode === 'flow') {
    s.origin = { ...s.at };
    return goTo(d, entryRef(script, 'kb', entry.answer.kbFlowId));
  }
  const answers = entry.answer.utterances;
  const answer = answers[(asks - 1) % Math.max(answers.length, 1)];
  if (answer) play(d, answer, entry.answer.allowInterrupt ?? true);
  runAction(d, entry.answer.action, home, 'kbAnswer');
}

function onSilence(d: Draft): void {
  const { script, s } = d;
  const g = script.globalConfig;
  s.counters.noReplyTotal += 1;
  s.counters.noReplyRun += 1;
  if (g.cumulativeNoReply.enabled && s.counters.noReplyTotal >= g.cumulativeNoReply.threshold) {
    return fireCounter(d, 'cumulativeNoReply', g.cumulativeNoReply);
  }
  const node = findNode(script, s.at);
  const branch = node?.kind === 'normal' ? node.branches.find((b) => b.type === 'NO_REPLY') : undefined;
  if (branch) {
    classified(d, { kind: 'branch', branchId: branch.id, branchType: 'NO_REPLY', score: 1, via: 'any' });
    return goTo(d, followBranch(script, s.at, branch.id));
  }
  if (g.noReply.enabled && g.noReply.steps.length > 0) return fireStep(d, 'noReply', g.noReply, s.counters.noReplyRun);
  enter(d, s.at);
}

function onUnrecognised(d: Draft): void {
  const { script, s } = d;
  const g = script.globalConfig;
  s.counters.unrecognizedRun += 1;
  s.counters.unrecognizedStreak += 1;
  if (g.cumulativeUnrecognized.enabled && s.counters.unrecognizedStreak >= g.cumulativeUnrecognized.threshold) {
    return fireCounter(d, 'cumulativeUnrecognized', g.cumulativeUnrecognized);
  }
  const node = findNode(script, s.at);
  const branch = node?.kind === 'normal' ? node.branches.find((b) => b.type === 'UNRECOGNIZED') : undefined;
  if (branch) {
    classified(d, { kind: 'branch', branchId: branch.id, branchType: 'UNRECOGNIZED', score: 0, via: 'any' });
    return goTo(d, followBranch(script, s.at, branch.id));
  }
  if (g.unrecognized.enabled && g.unrecognized.steps.length > 0) {
    return fireStep(d, 'unrecognized', g.unrecognized, s.counters.unrecognizedRun);
  }
  enter(d, s.at);
}

/** Step n of a no-reply / unrecognised module (the last step again beyond the last); the dialog stays put. */
function fireStep(d: Draft, key: 'noReply' | 'unrecognized', module: StepModule, run: number): void {
  const step = module.steps[Math.min(run, module.steps.length) - 1]!;
  d.turn.module = key;
  play(d, step.utterance, false);
  moduleAction(d, step.action, key);
}

function fireCounter(d: Draft, key: GlobalModuleKey, module: CounterModule): void {
  d.turn.module = key;
  if (module.utterance) play(d, module.utterance, false);
  moduleAction(d, module.action, key);
}

function moduleAction(d: Draft, action: ModuleAction, key: GlobalModuleKey): void {
  if (action.type === 'wait') d.s.after = { kind: 'listen' };
  else if (action.type === 'hangup') finish(d, { kind: 'hangup', reason: key });
  else finish(d, { kind: 'transfer', skillGroupId: action.skillGroupId, reason: key });
}

/** Go to a node, or end the call as a dead end if the script led nowhere. */
function goTo(d: Draft, target: NodeRef | undefined): void {
  if (target) enter(d, target);
  else finish(d, { kind: 'hangup', reason: 'deadEnd' });
}

/**
 * Enter a node: tags, its next utterance, then listen (normal node) or its action (jump node). Jumps are followed
 * in a loop, bounded by {@link MAX_JUMP_HOPS}.
 */
function enter(d: Draft, first: NodeRef): void {
  const { script, s } = d;
  let target: NodeRef | undefined = first;
  for (let hop = 0; hop < MAX_JUMP_HOPS; hop++) {
    const node = target ? findNode(script, target) : undefined;
    if (!target || !node) break;
    s.counters.noReplyRun = 0;
    s.counters.unrecognizedRun = 0;
    // Back in a main flow: the KB digression is over.
    if (target.scope === 'main') s.origin = null;
    addTags(d, node.tags);
    const key = refKey(target);
    const visits = s.visits[key] ?? 0;
    s.visits[key] = visits + 1;
    const utterance = node.utterances[visits % Math.max(node.utterances.length, 1)];
    if (node.kind === 'normal') {
      if (utterance) play(d, utterance, node.allowInterrupt);
      s.at = { ...target };
      s.after = { kind: 'listen' };
      return;
    }
    if (utterance) play(d, utterance, false);
    s.at = { ...target };
    const home = target.scope === 'main' ? target : s.origin;
    const next = runAction(d, node.action, home, 'jumpNode', true);
    if (next === 'done') return;
    target = next;
  }
  finish(d, { kind: 'hangup', reason: 'deadEnd' });
}

/**
 * Perform a jump-node or post-answer action. `home` is the main-flow node the jump-backs return to. With
 * `deferEnter`, a node to enter is returned instead of entered (so {@link enter} can bound the chain).
 */
function runAction(
  d: Draft,
  action: PostAnswerAction,
  home: NodeRef | null,
  reason: EndReason,
  deferEnter = false,
): NodeRef | undefined | 'done' {
  const { script, s } = d;
  let next: NodeRef | undefined;
  switch (action.type) {
    case 'hangup':
      finish(d, { kind: 'hangup', reason });
      return 'done';
    case 'transfer':
      finish(d, { kind: 'transfer', skillGroupId: action.skillGroupId, reason });
      return 'done';
    case 'wait':
      // Listen where the question was asked: the reply is matched at that node, which is not replayed.
      if (s.at.scope === 'kb' && findNode(script, s.at)?.kind === 'jump' && home) s.at = { ...home };
      if (sameRef(s.at, home)) s.origin = null;
      s.after = { kind: 'listen' };
      return 'done';
    case 'returnToNode':
      next = home ?? undefined;
      break;
    case 'returnToFlowEntry':
      next = home ? entryRef(script, 'main', home.flowId) : undefined;
      break;
    case 'jumpToFlow':
      next = entryRef(script, 'main', action.flowId);
      break;
  }
  if (deferEnter) return next;
  goTo(d, next);
  return 'done';
}

function finish(d: Draft, end: Extract<After, { kind: 'hangup' | 'transfer' }>): void {
  d.s.after = end;
}

function addTags(d: Draft, tags: string[]): void {
  for (const tag of tags) {
    if (!d.s.tags.includes(tag)) {
      d.s.tags.push(tag);
      d.turn.tagsAdded.push(tag);
    }
  }
}

function interruptibleAt(d: Draft): boolean {
  const node = findNode(d.script, d.s.at);
  return node?.kind === 'normal' ? node.allowInterrupt : false;
}

function playAction(
  d: Draft,
  utteranceId: string,
  text: string,
  allowInterrupt: boolean,
  missing: string[],
): Extract<DialogAction, { type: 'play' }> {
  return {
    type: 'play',
    utteranceId,
    text,
    allowInterrupt,
    detectSpeech: allowInterrupt || d.script.globalConfig.interrupt.enabled,
    ...(missing.length > 0 ? { missingVariables: missing } : {}),
  };
}

function play(d: Draft, utterance: Utterance, allowInterrupt: boolean): void {
  const { text, missing } = fillVariables(utterance.text, d.s.variables);
  d.plays.push(playAction(d, utterance.id, text, allowInterrupt, missing));
  d.turn.robot.push({ utteranceId: utterance.id, text });
}

function afterAction(script: Script, s: DialogState): DialogAction {
  const after = s.after;
  if (after.kind === 'listen') {
    s.phase = 'listening';
    return { type: 'listen', timeoutMs: script.globalConfig.listenTimeoutSeconds * 1000, deadlineMs: s.deadlineMs };
  }
  s.phase = 'ended';
  s.end = { ...after };
  return after.kind === 'hangup'
    ? { type: 'hangup', reason: after.reason, tags: [...s.tags] }
    : { type: 'transfer', skillGroupId: after.skillGroupId, reason: after.reason, tags: [...s.tags] };
}

/** Close the step: the turn record, then the prompts (state `speaking`) or straight to what follows. */
function flush(d: Draft): DialogStep {
  const { s } = d;
  const ending = s.after.kind !== 'listen';
  d.turn.next = ending ? null : { ...s.at };
  if (ending && s.after.kind !== 'listen') {
    d.turn.end =
      s.after.kind === 'hangup'
        ? { kind: 'hangup', reason: s.after.reason }
        : { kind: 'transfer', reason: s.after.reason, skillGroupId: s.after.skillGroupId };
  }
  const actions: DialogAction[] = [{ type: 'turn', turn: d.turn }];
  if (d.plays.length > 0) {
    s.phase = 'speaking';
    s.speaking = d.plays.map((p) => ({ utteranceId: p.utteranceId, allowInterrupt: p.allowInterrupt }));
    if (!d.keepLastSpoken) s.lastSpoken = d.plays.map((p) => ({ utteranceId: p.utteranceId, text: p.text }));
    actions.push(...d.plays);
  } else {
    actions.push(afterAction(d.script, s));
  }
  return { state: s, actions };
}
