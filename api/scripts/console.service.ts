/**
 * The text console (issue #6 item 8) over HTTP: start a test conversation with a script version (a draft is
 * allowed) and the contact's variables, then send turns — words, a key, silence, words over the prompt, hanging up,
 * waiting — and read the robot's replies. src/script/console.ts does the talking.
 *
 * Stateless API: a session is one `console_sessions` document (exact `_id`) holding the version, the variables and
 * the inputs so far. Each turn rebuilds the conversation by replaying the stored inputs — the console is a pure
 * function of script, variables and inputs (its clock is simulated) — then sends the new one and stores it. A
 * version is immutable once it is not a draft; a session on a draft that was edited since sees the new draft (the
 * tester is editing what they test).
 */
import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Repositories } from '../../activities/mongo/connection';
import { withDocLock } from '../../activities/mongo/doc-lock';
import type { ConsoleSessionDoc, ConsoleStoredInput } from '../../activities/mongo/script-repository';
import { DomainError, NotFound, ValidationFailed } from '../../src/errors';
import { chat, ConsoleSession, type ConsoleInput, type ConsoleReply } from '../../src/script/console';
import { validateVariableValues } from '../../src/script/validate';
import { REPOSITORIES } from '../common/tokens';
import type { ConsoleTurnDto, StartConsoleDto } from './script.dto';
import { ScriptsService } from './scripts.service';

/** DERIVED: a test conversation is at most this many turns (each turn replays the ones before). */
export const CONSOLE_MAX_TURNS = 200;

export interface ConsoleReplyView extends ConsoleReply {
  sessionId: string;
  scriptId: string;
  version: number;
}

const toConsoleInput = (i: ConsoleStoredInput): ConsoleInput => ('text' in i ? i.text : i);

@Injectable()
export class ConsoleService {
  private readonly repo: Repositories['scripts'];

  constructor(
    @Inject(REPOSITORIES) repos: Repositories,
    private readonly scripts: ScriptsService,
  ) {
    this.repo = repos.scripts;
  }

  /** StartScriptConsole: a new session; answers with the robot's opening. */
  async start(tenantId: string, scriptId: string, dto: StartConsoleDto): Promise<ConsoleReplyView> {
    const variables = dto.variables ?? {};
    const problems = [
      ...Object.entries(variables)
        .filter(([, v]) => typeof v !== 'string')
        .map(([k]) => ({ field: `variables.${k}`, reason: 'a variable value is a string' })),
      ...validateVariableValues(
        Object.fromEntries(Object.entries(variables).filter(([, v]) => typeof v === 'string')),
      ).map((p) => ({ ...p, field: `variables.${p.field}` })),
    ];
    if (problems.length) throw new ValidationFailed('bad variables', problems);
    const head = await this.scripts.head(tenantId, scriptId);
    const version = dto.version ?? head.draftVersion ?? head.latestVersion;
    const doc = await this.scripts.version(tenantId, scriptId, version);
    const session = new ConsoleSession(doc.script, variables);
    const sessionId = randomBytes(12).toString('hex');
    await this.repo.insertSession({
      _id: sessionId,
      tenantId,
      scriptId,
      version,
      variables,
      inputs: [],
      ended: session.greeting.ended,
    });
    return { sessionId, scriptId, version, ...session.greeting };
  }

  /** SendConsoleTurn: one input, the robot's reply. */
  async send(tenantId: string, sessionId: string, dto: ConsoleTurnDto): Promise<ConsoleReplyView> {
    const input = toStoredInput(dto);
    return withDocLock(`console_sessions/${sessionId}`, async () => {
      const s = await this.session(tenantId, sessionId);
      if (s.ended) throw new DomainError('the conversation has ended', 409, [{ field: 'session', reason: 'ended' }]);
      if (s.inputs.length >= CONSOLE_MAX_TURNS) {
        throw new DomainError(`a console session is at most ${CONSOLE_MAX_TURNS} turns`, 409);
      }
      const doc = await this.scripts.version(tenantId, s.scriptId, s.version);
      const session = new ConsoleSession(doc.script, s.variables);
      for (const earlier of s.inputs) session.send(toConsoleInput(earlier));
      const reply = session.send(toConsoleInput(input));
      const ended = session.dialogState.phase === 'ended';
      await this.repo.saveSessionInputs(tenantId, sessionId, [...s.inputs, input], ended);
      return { sessionId, scriptId: s.scriptId, version: s.version, ...reply, ended };
    });
  }

  /** GetConsoleSession: the transcript so far. */
  async get(tenantId: string, sessionId: string) {
    const s = await this.session(tenantId, sessionId);
    const doc = await this.scripts.version(tenantId, s.scriptId, s.version);
    const r = chat(doc.script, s.variables, s.inputs.map(toConsoleInput));
    return {
      sessionId,
      scriptId: s.scriptId,
      version: s.version,
      ended: r.state.phase === 'ended',
      transcript: r.transcript,
      turns: r.turns,
      ...(r.end ? { end: r.end } : {}),
    };
  }

  private async session(tenantId: string, sessionId: string): Promise<ConsoleSessionDoc> {
    const s = await this.repo.getSession(tenantId, sessionId);
    if (!s) throw new NotFound(`console session ${sessionId}`);
    return s;
  }
}

/** Exactly one kind of input per turn. */
function toStoredInput(dto: ConsoleTurnDto): ConsoleStoredInput {
  const given: ConsoleStoredInput[] = [];
  if (dto.text !== undefined) given.push({ text: dto.text });
  if (dto.key !== undefined) given.push({ key: dto.key });
  if (dto.silence) given.push({ silence: true });
  if (dto.bargeIn !== undefined) given.push({ bargeIn: dto.bargeIn });
  if (dto.hangup) given.push({ hangup: true });
  if (dto.waitSeconds !== undefined) given.push({ waitMs: dto.waitSeconds * 1000 });
  if (given.length !== 1) {
    throw new ValidationFailed('one input per turn', [
      { field: 'body', reason: 'give exactly one of text, key, silence, bargeIn, hangup, waitSeconds' },
    ]);
  }
  return given[0]!;
}
