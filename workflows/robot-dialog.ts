/**
 * The robot's side of an answered call, inside the contact's workflow: the dialog engine (src/script/engine) decides,
 * turn activities on the worker that holds the channel (`hostQueue`) play, listen and report what the callee did.
 *
 * So the call's history is its transcript: every turn activity's input carries the prompts to play (text and
 * utterance id), the node a reply will be classified at, and the turn records the engine produced since the
 * previous activity (branch or knowledge entry, intent, next node, tags); every result carries what was heard
 * (the key, or the recognised text with its classification) or the silence, and the keys pressed over prompts that
 * do not allow barge-in. Replaying the history replays the engine to the same decisions.
 *
 * Deterministic: the engine is pure, time is the workflow's clock, and nothing here does I/O.
 */
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { createMediaActivities } from '../activities/media-activities';
import {
  resumeAfterTransfer,
  startDialog,
  stepDialog,
  type DialogAction,
  type DialogInput,
  type DialogState,
  type DialogTurn,
} from '../src/script/engine';
import type { Script } from '../src/script/model';
import type {
  AttemptOutcome,
  DialogEnd,
  EndCallInput,
  HeardInput,
  ListenResult,
  SpeakResult,
  TurnCallRef,
} from './definitions';

type MediaActivities = ReturnType<typeof createMediaActivities>;

/** The smallest listen the runtime asks for when the call's deadline is close (a listen of 0 would spin). */
const MIN_LISTEN_MS = 500;

export interface DialogRun {
  turns: DialogTurn[];
  tags: string[];
  end: DialogEnd;
  /** The engine's state at the end (workflow-local; a dialog that ended in a transfer may be resumed from it). */
  state: DialogState;
}

export interface DialogRunInput {
  hostQueue: string;
  call: TurnCallRef;
  script: Script;
  variables: Record<string, string>;
  /** Continue a dialog that ended in a transfer at this main flow's entry, instead of starting one. */
  resume?: { state: DialogState; flowId: string };
}

/**
 * Run the dialog to its end: the robot hangs up or transfers, the callee hangs up, or the worker holding the
 * channel is lost (`end.kind === 'lost'`; the caller then ends the call from any media worker).
 */
export async function runDialog(input: DialogRunInput): Promise<DialogRun> {
  const { script, call } = input;
  const host = proxyActivities<MediaActivities>({
    taskQueue: input.hostQueue,
    // The channel exists only on that worker: if it does not pick the task up promptly, it is gone.
    scheduleToStartTimeout: '15 seconds',
    // Four prompts of at most 500 characters and a listen fit easily; the heartbeat catches a dead worker sooner.
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '20 seconds',
    // Replaying a prompt the callee already heard is worse than ending the call: no retries.
    retry: { maximumAttempts: 1 },
  });

  const turns: DialogTurn[] = [];
  let unsent: DialogTurn[] = [];
  let state: DialogState;

  /** Apply one step's actions: keep the turn records, return the prompts and the control action. */
  const absorb = (actions: DialogAction[]) => {
    const plays: Extract<DialogAction, { type: 'play' }>[] = [];
    let control: Extract<DialogAction, { type: 'listen' | 'hangup' | 'transfer' }> | undefined;
    for (const a of actions) {
      if (a.type === 'turn') {
        turns.push(a.turn);
        unsent.push(a.turn);
      } else if (a.type === 'play') plays.push(a);
      else if (a.type === 'listen' || a.type === 'hangup' || a.type === 'transfer') control = a;
      // stopPlayback: the turn activity has already stopped the prompt it reports as interrupted.
    }
    return { plays, control };
  };
  const step = (dialogInput: DialogInput) => {
    const next = stepDialog(script, state, dialogInput, Date.now());
    state = next.state;
    return absorb(next.actions);
  };
  const takeUnsent = () => {
    const out = unsent;
    unsent = [];
    return out;
  };
  const ended = (end: DialogEnd): DialogRun => ({ turns, tags: [...state.tags], end, state });
  const calleeHungUp = (): DialogRun => {
    step({ kind: 'calleeHangup' });
    return ended({ kind: 'calleeHangup' });
  };

  const first = input.resume
    ? resumeAfterTransfer(script, input.resume.state, input.resume.flowId, Date.now())
    : startDialog(script, input.variables, Date.now());
  state = first.state;
  let next = absorb(first.actions);

  for (;;) {
    const { plays, control } = next;
    if (plays.length > 0) {
      const listens = state.after.kind === 'listen';
      let r: SpeakResult;
      try {
        r = await host.speak({
          call,
          plays: plays.map((p) => ({ utteranceId: p.utteranceId, text: p.text, allowInterrupt: p.allowInterrupt })),
          at: state.at,
          ...(listens ? { listenMs: listenBudget(script, state) } : {}),
          turns: takeUnsent(),
        });
      } catch (err) {
        if (err instanceof ActivityFailure) return ended({ kind: 'lost' });
        throw err;
      }
      // Keys and words over prompts that do not allow barge-in: recorded as ignored turns.
      for (const ignored of r.ignored) step(heardAsInput(ignored.input, ignored.utteranceId));
      if (r.kind === 'hangup') return calleeHungUp();
      if (r.kind === 'interrupted') {
        next = step(heardAsInput(r.input, r.utteranceId));
        continue;
      }
      next = step({ kind: 'playbackDone' });
      if (r.heard && state.phase === 'listening') next = step(heardAsInput(r.heard));
      continue;
    }
    if (control?.type === 'listen') {
      let r: ListenResult;
      if (state.deadlineMs !== null && Date.now() >= state.deadlineMs) {
        next = step({ kind: 'deadline' });
        continue;
      }
      try {
        r = await host.listen({ call, at: state.at, timeoutMs: listenBudget(script, state), turns: takeUnsent() });
      } catch (err) {
        if (err instanceof ActivityFailure) return ended({ kind: 'lost' });
        throw err;
      }
      if (r.kind === 'hangup') return calleeHungUp();
      next = step(heardAsInput(r));
      continue;
    }
    if (control?.type === 'hangup') return ended({ kind: 'hangup', reason: control.reason });
    if (control?.type === 'transfer')
      return ended({ kind: 'transfer', reason: control.reason, skillGroupId: control.skillGroupId });
    // Nothing to play and nothing to do: only a dialog that has ended gets here.
    return ended({ kind: 'hangup', reason: state.end?.reason ?? 'deadEnd' });
  }
}

/** How long to listen: the script's listen timeout, cut short by the maximum call duration. */
function listenBudget(script: Script, state: DialogState): number {
  const timeout = script.globalConfig.listenTimeoutSeconds * 1000;
  if (state.deadlineMs === null) return timeout;
  return Math.max(MIN_LISTEN_MS, Math.min(timeout, state.deadlineMs - Date.now()));
}

function heardAsInput(heard: HeardInput, overUtterance?: string): DialogInput {
  switch (heard.kind) {
    case 'dtmf':
      return { kind: 'dtmf', digit: heard.digit, ...(overUtterance ? { utteranceId: overUtterance } : {}) };
    case 'speech':
      return overUtterance !== undefined
        ? { kind: 'bargeIn', text: heard.text, match: heard.match, utteranceId: overUtterance }
        : { kind: 'speech', text: heard.text, match: heard.match };
    case 'silence':
      return { kind: 'silence' };
  }
}

/**
 * End an answered call and store it: on the worker holding the channel, or — when that worker is gone — on any media
 * worker, which takes the channel over through ARI (or finds it gone) and records what it can.
 */
export async function endAnsweredCall(
  hostQueue: string,
  anyMediaWorker: Pick<MediaActivities, 'endCall'>,
  input: EndCallInput,
): Promise<AttemptOutcome> {
  if (input.end.kind !== 'lost') {
    const host = proxyActivities<MediaActivities>({
      taskQueue: hostQueue,
      scheduleToStartTimeout: '15 seconds',
      startToCloseTimeout: '2 minutes',
      heartbeatTimeout: '20 seconds',
      retry: { maximumAttempts: 1 },
    });
    try {
      return await host.endCall(input);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
    }
  }
  return anyMediaWorker.endCall({ ...input, end: { ...input.end, kind: 'lost' } });
}

/** Say a last sentence on the call (no listening, no barge-in), e.g. the transfer's timeout prompt. */
export async function sayGoodbye(hostQueue: string, call: TurnCallRef, text: string): Promise<void> {
  const host = proxyActivities<MediaActivities>({
    taskQueue: hostQueue,
    scheduleToStartTimeout: '15 seconds',
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '20 seconds',
    retry: { maximumAttempts: 1 },
  });
  try {
    await host.speak({
      call,
      plays: [{ utteranceId: 'system.goodbye', text, allowInterrupt: false }],
      at: { scope: 'main', flowId: '', nodeId: '' },
      turns: [],
    });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
  }
}
