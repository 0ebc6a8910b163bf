/**
 * Lines (自有线路) and caller numbers (自有号码, 号码组, 呼出生效范围), seed §6.2–6.3. A line is stored in MongoDB and
 * pushed to Asterisk as a PJSIP endpoint + aor named by its id (AsteriskLinesService), with no restart; the media
 * worker pushes every stored line again when it starts. Calls take a slot of their number's line through
 * activities/telephony/line-allocator.ts, which also honours `enabled` and the numbers' status.
 *
 * Guards derived from the seed (§6.3 MUST): a line that still has numbers, or calls in progress, is not deleted; a
 * number, or a line's numbers, that a live task dials from is neither deleted nor disabled — the refusal names them.
 */
import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Repositories } from '../../activities/mongo/connection';
import type { CallerNumberDoc, LineDoc } from '../../activities/mongo/line-repository';
import { DomainError, NotFound, ValidationFailed, type FieldProblem } from '../../src/errors';
import { maskPhone, normalisePhone } from '../../src/phone';
import { REPOSITORIES } from '../common/tokens';
import { AsteriskLinesService } from './asterisk-lines.service';
import type { AddCallerNumbersDto, CreateLineDto, UpdateCallerNumberDto, UpdateLineDto } from './line.dto';

const DEFAULT_SIP_PORT = 5060;
const NAMED_AT_MOST = 10;

export function lineView(l: LineDoc, inUse: number) {
  return {
    id: l._id,
    name: l.name,
    address: l.address,
    concurrency: l.concurrency,
    enabled: l.enabled,
    inUse,
    createdAt: l.createdAt,
    updatedAt: l.updatedAt,
  };
}

export function numberView(n: CallerNumberDoc) {
  return {
    number: n._id,
    lineId: n.lineId,
    ...(n.numberGroup ? { numberGroup: n.numberGroup } : {}),
    outboundScope: n.outboundScope,
    skillGroups: n.skillGroups ?? [],
    status: n.status,
    createdAt: n.createdAt,
    updatedAt: n.updatedAt,
  };
}

/** host[:port] → host:port (default 5060); the DTO has checked the shape. */
function normaliseAddress(address: string): string {
  const [host, port] = address.split(':');
  const p = port === undefined ? DEFAULT_SIP_PORT : Number(port);
  if (!host || !Number.isInteger(p) || p < 1 || p > 65535)
    throw new ValidationFailed('bad address', [{ field: 'address', value: address, reason: 'port must be 1–65535' }]);
  return `${host.toLowerCase()}:${p}`;
}

class Conflict extends DomainError {
  constructor(message: string, problems: FieldProblem[]) {
    super(message, 409, problems);
    this.name = 'Conflict';
  }
}

@Injectable()
export class LinesService {
  constructor(
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    private readonly asterisk: AsteriskLinesService,
  ) {}

  // ---- lines ----

  private async lineOr404(tenantId: string, lineId: string): Promise<LineDoc> {
    const line = await this.repos.lines.getLine(tenantId, lineId);
    if (!line) throw new NotFound(`line ${lineId}`);
    return line;
  }

  private async inUse(lineIds: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const s of await this.repos.lines.slotsOf(lineIds)) out.set(s._id, s.holders?.length ?? 0);
    return out;
  }

  private async checkNameFree(tenantId: string, name: string, exceptId?: string): Promise<void> {
    const other = await this.repos.lines.findLineByName(tenantId, name);
    if (other && other._id !== exceptId)
      throw new Conflict('a line with this name exists', [
        { field: 'name', value: name, reason: `the tenant already has a line named "${name}" (${other._id})` },
      ]);
  }

  /** Live tasks dialling from any of `numbers`, as a 409 naming them (none: nothing happens). */
  private async refuseIfUsed(tenantId: string, numbers: string[], field: string, action: string): Promise<void> {
    const tasks = await this.repos.lines.tasksUsing(tenantId, numbers, NAMED_AT_MOST);
    if (tasks.length)
      throw new Conflict(`${action}: live tasks dial from it`, [
        {
          field,
          value: tasks.map((t) => `${t._id} (${t.name})`).join(', '),
          reason: `used by ${tasks.length === NAMED_AT_MOST ? 'at least ' : ''}${tasks.length} task(s) not completed or cancelled`,
        },
      ]);
  }

  async createLine(tenantId: string, dto: CreateLineDto) {
    const address = normaliseAddress(dto.address);
    await this.checkNameFree(tenantId, dto.name);
    const now = new Date();
    const line: LineDoc = {
      _id: `line-${randomBytes(6).toString('hex')}`,
      tenantId,
      name: dto.name,
      address,
      concurrency: dto.concurrency,
      enabled: dto.enabled ?? true,
      createdAt: now,
      updatedAt: now,
    };
    // Asterisk first: a line that is stored is one that can be dialled through.
    await this.asterisk.push(line, `create ${line._id}`);
    try {
      await this.repos.lines.createLine(line);
    } catch (err) {
      await this.asterisk.remove(line._id, `undo ${line._id}`).catch(() => undefined);
      throw err;
    }
    return lineView(line, 0);
  }

  async listLines(tenantId: string, page: number, pageSize: number) {
    const { items, total } = await this.repos.lines.listLines(tenantId, (page - 1) * pageSize, pageSize);
    const inUse = await this.inUse(items.map((l) => l._id));
    return { page, pageSize, total, items: items.map((l) => lineView(l, inUse.get(l._id) ?? 0)) };
  }

  async getLine(tenantId: string, lineId: string) {
    const line = await this.lineOr404(tenantId, lineId);
    return lineView(line, (await this.inUse([lineId])).get(lineId) ?? 0);
  }

  /** Change a line; the endpoint and aor are pushed again (503 if that fails for a new address). */
  async updateLine(tenantId: string, lineId: string, dto: UpdateLineDto) {
    const changes: Partial<Pick<LineDoc, 'name' | 'address' | 'concurrency' | 'enabled'>> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.address !== undefined) changes.address = normaliseAddress(dto.address);
    if (dto.concurrency !== undefined) changes.concurrency = dto.concurrency;
    if (dto.enabled !== undefined) changes.enabled = dto.enabled;
    if (!Object.keys(changes).length)
      throw new ValidationFailed('nothing to change', [
        { field: 'body', reason: 'give at least one of name, address, concurrency, enabled' },
      ]);
    const line = await this.lineOr404(tenantId, lineId);
    if (changes.name !== undefined && changes.name !== line.name)
      await this.checkNameFree(tenantId, changes.name, lineId);
    if (changes.enabled === false && line.enabled)
      await this.refuseIfUsed(
        tenantId,
        await this.repos.lines.numbersOfLine(tenantId, lineId, 10_000),
        'enabled',
        'the line cannot be disabled',
      );
    const updated = await this.repos.lines.updateLine(tenantId, lineId, changes);
    if (!updated) throw new NotFound(`line ${lineId}`);
    // Only an address change needs Asterisk; the rest (name, concurrency, enabled) is Waihu's, so disabling a line
    // works while Asterisk is down. The push is still tried: it repairs an Asterisk that lost the line.
    const push = this.asterisk.push(updated, `update ${lineId}`);
    if (changes.address !== undefined && changes.address !== line.address) await push;
    else await push.catch(() => undefined); // logged by AsteriskLinesService; the media worker's sync re-pushes
    return lineView(updated, (await this.inUse([lineId])).get(lineId) ?? 0);
  }

  async deleteLine(tenantId: string, lineId: string): Promise<void> {
    await this.lineOr404(tenantId, lineId);
    const numbers = await this.repos.lines.numbersOfLine(tenantId, lineId, NAMED_AT_MOST);
    if (numbers.length)
      throw new Conflict('the line still has caller numbers', [
        {
          field: 'id',
          value: numbers.join(', '),
          reason: 'delete or move the line’s caller numbers first',
        },
      ]);
    const inUse = (await this.inUse([lineId])).get(lineId) ?? 0;
    if (inUse)
      throw new Conflict('calls are in progress on the line', [
        { field: 'id', value: lineId, reason: `${inUse} call(s) hold a slot of the line; disable it and retry later` },
      ]);
    await this.asterisk.remove(lineId, `delete ${lineId}`);
    await this.repos.lines.deleteLine(tenantId, lineId);
  }

  // ---- caller numbers ----

  private e164(raw: string, field: string): string {
    const p = normalisePhone(raw);
    if (!p.ok) throw new ValidationFailed('not a phone number', [{ field, value: raw.slice(0, 64), reason: p.reason }]);
    return p.e164;
  }

  private async lineOf(tenantId: string, lineId: string): Promise<LineDoc> {
    const line = await this.repos.lines.getLine(tenantId, lineId);
    if (!line)
      throw new ValidationFailed('no such line', [
        { field: 'lineId', value: lineId, reason: 'the tenant has no such line' },
      ]);
    return line;
  }

  /** Add numbers to a line, all or nothing; each problem names its `numbers.<i>`. */
  async addNumbers(tenantId: string, dto: AddCallerNumbersDto) {
    const problems: FieldProblem[] = [];
    const seen = new Map<string, number>();
    dto.numbers.forEach((raw, i) => {
      const p = normalisePhone(raw);
      if (!p.ok) problems.push({ field: `numbers.${i}`, value: raw.slice(0, 64), reason: p.reason });
      else if (seen.has(p.e164))
        problems.push({ field: `numbers.${i}`, value: raw, reason: `the same number as numbers.${seen.get(p.e164)}` });
      else seen.set(p.e164, i);
    });
    const scope = dto.outboundScope ?? 'ALL';
    if (scope === 'ALL' && dto.skillGroups?.length)
      problems.push({ field: 'skillGroups', reason: 'only with outboundScope SOME (ALL means every skill group)' });
    if (problems.length) throw new ValidationFailed(`${problems.length} problem(s); nothing was added`, problems);
    await this.lineOf(tenantId, dto.lineId);
    const existing = await this.repos.lines.existingNumbers([...seen.keys()]);
    if (existing.length)
      throw new Conflict(
        'numbers already registered',
        existing.map((e) => ({
          field: `numbers.${seen.get(e._id)}`,
          value: e._id,
          reason: e.tenantId === tenantId ? 'already one of the tenant’s caller numbers' : 'already registered',
        })),
      );
    const now = new Date();
    const docs: CallerNumberDoc[] = [...seen.keys()].map((e164) => ({
      _id: e164,
      tenantId,
      lineId: dto.lineId,
      ...(dto.numberGroup ? { numberGroup: dto.numberGroup } : {}),
      outboundScope: scope,
      skillGroups: scope === 'SOME' ? (dto.skillGroups ?? []) : [],
      status: dto.status ?? 'VALID',
      createdAt: now,
      updatedAt: now,
    }));
    try {
      await this.repos.lines.addNumbers(docs);
    } catch (err) {
      if ((err as { code?: number }).code === 11000)
        throw new Conflict('numbers already registered', [
          { field: 'numbers', reason: 'a number was registered at the same time; nothing after it was added' },
        ]);
      throw err;
    }
    return { added: docs.length, items: docs.map(numberView) };
  }

  async listNumbers(
    tenantId: string,
    filter: { lineId?: string; numberGroup?: string },
    page: number,
    pageSize: number,
  ) {
    const { items, total } = await this.repos.lines.listNumbers(tenantId, filter, (page - 1) * pageSize, pageSize);
    return { page, pageSize, total, items: items.map(numberView) };
  }

  async getNumber(tenantId: string, raw: string) {
    const e164 = this.e164(raw, 'number');
    const doc = await this.repos.lines.getNumber(tenantId, e164);
    if (!doc) throw new NotFound(`caller number ${maskPhone(e164)}`);
    return numberView(doc);
  }

  async updateNumber(tenantId: string, raw: string, dto: UpdateCallerNumberDto) {
    const e164 = this.e164(raw, 'number');
    const current = await this.repos.lines.getNumber(tenantId, e164);
    if (!current) throw new NotFound(`caller number ${maskPhone(e164)}`);
    const changes: Partial<
      Pick<CallerNumberDoc, 'lineId' | 'numberGroup' | 'outboundScope' | 'skillGroups' | 'status'>
    > = {};
    const unset: ('numberGroup' | 'skillGroups')[] = [];
    if (dto.lineId !== undefined) changes.lineId = (await this.lineOf(tenantId, dto.lineId))._id;
    if (dto.numberGroup === null) unset.push('numberGroup');
    else if (dto.numberGroup !== undefined) changes.numberGroup = dto.numberGroup;
    if (dto.status !== undefined) changes.status = dto.status;
    const scope = dto.outboundScope ?? current.outboundScope;
    const groups = dto.skillGroups ?? (dto.outboundScope === 'ALL' ? [] : (current.skillGroups ?? []));
    if (scope === 'SOME' && !groups.length)
      throw new ValidationFailed('skill groups missing', [
        { field: 'skillGroups', reason: 'name at least one skill group when outboundScope is SOME' },
      ]);
    if (scope === 'ALL' && groups.length)
      throw new ValidationFailed('skill groups with ALL', [
        { field: 'skillGroups', reason: 'only with outboundScope SOME (ALL means every skill group)' },
      ]);
    if (dto.outboundScope !== undefined || dto.skillGroups !== undefined) {
      changes.outboundScope = scope;
      changes.skillGroups = groups;
    }
    if (!Object.keys(changes).length && !unset.length)
      throw new ValidationFailed('nothing to change', [
        { field: 'body', reason: 'give at least one of lineId, numberGroup, outboundScope, skillGroups, status' },
      ]);
    const updated = await this.repos.lines.updateNumber(tenantId, e164, changes, unset);
    if (!updated) throw new NotFound(`caller number ${maskPhone(e164)}`);
    return numberView(updated);
  }

  async deleteNumber(tenantId: string, raw: string): Promise<void> {
    const e164 = this.e164(raw, 'number');
    if (!(await this.repos.lines.getNumber(tenantId, e164))) throw new NotFound(`caller number ${maskPhone(e164)}`);
    await this.refuseIfUsed(tenantId, [e164], 'number', 'the number cannot be deleted');
    await this.repos.lines.deleteNumber(tenantId, e164);
  }
}
