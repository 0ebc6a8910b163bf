/**
 * The text console (issue #6 item 8): talk to a script turn by turn without a phone. It wires the matcher (what
 * the speech activity does in a call) to the dialog engine (what the call workflow does) and plays the runtime's
 * part: every prompt is "heard to the end" at once unless the next input barges in.
 *
 * Node only (the matcher needs RE2). {@link ConsoleSession} keeps one conversation for an API test session;
 * {@link chat} runs a whole list of inputs, for tests and the CLI.
 */
import {
  type DialogAction,
  type DialogInput,
  type DialogState,
  type DialogTurn,
  startDialog,
  stepDialog,
} from './engine';
import { createMatcher, type Matcher } from './matcher';
import { type Script } from './model';

/** What the tester types: words, a key, silence (the listen timed out), words over the prompt, or hanging up. */
export type ConsoleInput =
  | string
  | { key: string }
  | { silence: true }
  | { bargeIn: string }
  | { hangup: true }
  /** Let time pass (e.g. to reach the maximum call duration). */
  | { waitMs: number };

export interface ConsoleReply {
  /** What the robot said in response, in order. */
  robot: string[];
  turns: DialogTurn[];
  ended: boolean;
  end?: { kind: 'hangup' | 'transfer'; reason: string; skillGroupId?: string; tags: string[] };
}

/** One test conversation. The clock is simulated: each input advances it by `stepMs`. */
export class ConsoleSession {
  private readonly matcher: Matcher;
  private state: DialogState;
  private nowMs: number;
  /** Actions of the last step that the runtime has not yet acted on (prompts still "playing"). */
  private pending: DialogAction[] = [];
  readonly turns: DialogTurn[] = [];

  constructor(
    private readonly script: Script,
    variables: Record<string, string> = {},
    private readonly options: { startMs?: number; stepMs?: number } = {},
  ) {
    this.matcher = createMatcher(script);
    this.nowMs = options.startMs ?? 0;
    const first = startDialog(script, variables, this.nowMs);
    this.state = first.state;
    this.greeting = this.absorb(first.actions);
  }

  /** The robot's opening, from the start of the dialog. */
  readonly greeting: ConsoleReply;

  get dialogState(): DialogState {
    return this.state;
  }

  /** Send one input; returns what the robot said and did in response. */
  send(input: ConsoleInput): ConsoleReply {
    if (typeof input === 'object' && 'waitMs' in input) {
      this.nowMs += input.waitMs;
      return this.apply({ kind: 'deadline' });
    }
    this.nowMs += this.options.stepMs ?? 3000;
    if (typeof input === 'object' && 'bargeIn' in input) {
      const match = this.matcher.match(input.bargeIn, this.state.at);
      return this.apply({ kind: 'bargeIn', text: input.bargeIn, match });
    }
    // Not a barge-in: the prompts played to the end before the callee answered.
    const heard = this.acknowledge();
    if (heard) return heard;
    let dialogInput: DialogInput;
    if (typeof input === 'string')
      dialogInput = { kind: 'speech', text: input, match: this.matcher.match(input, this.state.at) };
    else if ('key' in input) dialogInput = { kind: 'dtmf', digit: input.key };
    else if ('silence' in input) dialogInput = { kind: 'silence' };
    else dialogInput = { kind: 'calleeHangup' };
    return this.apply(dialogInput);
  }

  private acknowledge(): ConsoleReply | undefined {
    if (this.state.phase !== 'speaking') return undefined;
    const step = stepDialog(this.script, this.state, { kind: 'playbackDone' }, this.nowMs);
    this.state = step.state;
    const reply = this.absorb(step.actions);
    // The prompts ended the call (a goodbye): there is nothing left to answer.
    return reply.ended ? reply : undefined;
  }

  private apply(input: DialogInput): ConsoleReply {
    const step = stepDialog(this.script, this.state, input, this.nowMs);
    this.state = step.state;
    const reply = this.absorb(step.actions);
    // A goodbye is heard to the end at once, so the reply shows how the call ended.
    if (!reply.ended && this.state.phase === 'speaking' && this.state.after.kind !== 'listen') {
      const done = stepDialog(this.script, this.state, { kind: 'playbackDone' }, this.nowMs);
      this.state = done.state;
      const tail = this.absorb(done.actions);
      return { ...reply, ended: tail.ended, ...(tail.end ? { end: tail.end } : {}) };
    }
    return reply;
  }

  private absorb(actions: DialogAction[]): ConsoleReply {
    this.pending = actions;
    const reply: ConsoleReply = { robot: [], turns: [], ended: this.state.phase === 'ended' };
    for (const a of actions) {
      if (a.type === 'play') reply.robot.push(a.text);
      else if (a.type === 'turn') {
        reply.turns.push(a.turn);
        this.turns.push(a.turn);
      } else if (a.type === 'hangup') reply.end = { kind: 'hangup', reason: a.reason, tags: a.tags };
      else if (a.type === 'transfer') {
        reply.end = { kind: 'transfer', reason: a.reason, skillGroupId: a.skillGroupId, tags: a.tags };
      }
    }
    return reply;
  }

  /** The actions of the last step (for a UI that wants to show listens and stops too). */
  get lastActions(): readonly DialogAction[] {
    return this.pending;
  }
}

/** A transcript line: `机器人: …`, `用户: …`, `[…]` for what the system did. */
export interface ChatResult {
  transcript: string[];
  turns: DialogTurn[];
  state: DialogState;
  end?: ConsoleReply['end'];
}

/** Run a whole conversation; a pure function of the script, the variables and the inputs. */
export function chat(
  script: Script,
  variables: Record<string, string>,
  inputs: ConsoleInput[],
  options: { startMs?: number; stepMs?: number } = {},
): ChatResult {
  const session = new ConsoleSession(script, variables, options);
  const transcript: string[] = session.greeting.robot.map((t) => `机器人: ${t}`);
  let end = session.greeting.end;
  for (const input of inputs) {
    if (session.dialogState.phase === 'ended') break;
    transcript.push(describe(input));
    const reply = session.send(input);
    transcript.push(...reply.robot.map((t) => `机器人: ${t}`));
    if (reply.end) {
      end = reply.end;
      transcript.push(
        reply.end.kind === 'hangup'
          ? `[挂机 ${reply.end.reason} 标签: ${reply.end.tags.join(',')}]`
          : `[转接 ${reply.end.skillGroupId ?? ''} ${reply.end.reason} 标签: ${reply.end.tags.join(',')}]`,
      );
    }
  }
  return { transcript, turns: session.turns, state: session.dialogState, ...(end ? { end } : {}) };
}

function describe(input: ConsoleInput): string {
  if (typeof input === 'string') return `用户: ${input}`;
  if ('key' in input) return `用户: [按键 ${input.key}]`;
  if ('silence' in input) return '用户: [无回复]';
  if ('bargeIn' in input) return `用户(打断): ${input.bargeIn}`;
  if ('hangup' in input) return '[用户挂机]';
  return `[${input.waitMs} ms 后]`;
}
