/**
 * 批量导入坐席 (seed §5.4): agents from an xlsx workbook (the first sheet; SheetJS through api/lists/list-reader.ts,
 * which also reads a UTF-8 CSV). All or nothing: every problem is reported with its row (the header is row 1) and
 * column (as written in the file), and nothing is written — no agent, no phone in Asterisk — unless every row is good.
 *
 * Columns (Chinese or English header, any order): 登录名 / loginName *, 真实姓名 / realName *, 对外展示名 / displayName *,
 * 话机地址 / phoneAddress * (host[:port]), 技能组 / skillGroups (names or ids, separated by `,` `，` `;` `；` `、`),
 * 角色 / role (普通坐席 / 企业管理员, or AGENT / ENTERPRISE_ADMIN; default 普通坐席).
 */
import { Inject, Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { randomBytes } from 'node:crypto';
import type { AgentDoc, AgentRole } from '../../activities/mongo/agent-repository';
import type { Repositories } from '../../activities/mongo/connection';
import { withDocLock } from '../../activities/mongo/doc-lock';
import { ValidationFailed, type FieldProblem } from '../../src/errors';
import { REPOSITORIES } from '../common/tokens';
import { flatten } from '../common/validation';
import { readRows, TRUNCATED, type UploadedList } from '../lists/list-reader';
import { CreateAgentDto } from './agent.dto';
import { normaliseLoginName, normalisePhoneAddress, resolveSkillGroups } from './agent-rules';
import { AgentsService } from './agents.service';
import { agentsLock } from './skill-groups.service';

/** At most this many agents per file. */
export const MAX_IMPORT_AGENTS = 1000;
/** At most this many problems are listed (the count says how many there were). */
const MAX_PROBLEMS = 200;

type Column = 'loginName' | 'realName' | 'displayName' | 'phoneAddress' | 'skillGroups' | 'role';

const HEADERS: Record<Column, string[]> = {
  loginName: ['登录名', 'loginname'],
  realName: ['真实姓名', 'realname'],
  displayName: ['对外展示名', 'displayname'],
  phoneAddress: ['话机地址', 'phoneaddress'],
  skillGroups: ['技能组', 'skillgroups'],
  role: ['角色', 'role'],
};
const REQUIRED: Column[] = ['loginName', 'realName', 'displayName', 'phoneAddress'];
const ROLE_NAMES: Record<string, AgentRole> = {
  普通坐席: 'AGENT',
  AGENT: 'AGENT',
  企业管理员: 'ENTERPRISE_ADMIN',
  ENTERPRISE_ADMIN: 'ENTERPRISE_ADMIN',
};
const LIST_SEPARATORS = /[,，;；、]/;

function columnOf(header: string): Column | undefined {
  const h = header.trim().toLowerCase();
  return (Object.keys(HEADERS) as Column[]).find((c) => HEADERS[c].includes(h));
}

@Injectable()
export class AgentImportService {
  constructor(
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    private readonly agents: AgentsService,
  ) {}

  async import(tenantId: string, file: UploadedList | undefined) {
    if (!file) throw new ValidationFailed('no file', [{ field: 'file', reason: 'an agent list (.xlsx) is required' }]);
    const rows: { row: number; cells: string[] }[] = [];
    for await (const r of readRows(file, { maxRows: MAX_IMPORT_AGENTS + 1, maxRecordBytes: 64 * 1024 })) {
      if (r.cells[0] === TRUNCATED || rows.length > MAX_IMPORT_AGENTS)
        throw new ValidationFailed('too many agents', [
          { field: 'file', reason: `at most ${MAX_IMPORT_AGENTS} agents per file` },
        ]);
      rows.push(r);
    }
    const [header, ...data] = rows;
    if (!header) throw new ValidationFailed('the file is empty', [{ field: 'file', reason: 'no header row' }]);

    // The header: every column known, the required ones present, none twice.
    const problems: FieldProblem[] = [];
    const at = new Map<Column, { index: number; name: string }>();
    header.cells.forEach((raw, index) => {
      const name = raw.trim();
      if (!name) return;
      const col = columnOf(name);
      if (!col)
        problems.push({
          field: name,
          row: 1,
          reason: `unknown column (expected ${Object.values(HEADERS)
            .map((h) => h[0])
            .join(', ')})`,
        });
      else if (at.has(col)) problems.push({ field: name, row: 1, reason: `the same column as ${at.get(col)?.name}` });
      else at.set(col, { index, name });
    });
    for (const col of REQUIRED)
      if (!at.has(col)) problems.push({ field: HEADERS[col][0] ?? col, row: 1, reason: 'required column is missing' });
    if (problems.length) throw new ValidationFailed('the header is not an agent list header', problems);

    const cell = (cells: string[], col: Column) => {
      const c = at.get(col);
      return c ? (cells[c.index] ?? '').trim() : '';
    };
    const colName = (col: Column) => at.get(col)?.name ?? HEADERS[col][0] ?? col;
    const groups = await this.repos.agents.allSkillGroups(tenantId);

    type Candidate = { row: number; doc: Omit<AgentDoc, '_id' | 'tenantId' | 'createdAt' | 'updatedAt'> };
    const candidates: Candidate[] = [];
    const loginRows = new Map<string, number>();
    for (const { row, cells } of data) {
      if (cells.every((c) => !c.trim())) continue;
      const before = problems.length;
      const roleText = cell(cells, 'role');
      const role = roleText ? (ROLE_NAMES[roleText] ?? ROLE_NAMES[roleText.toUpperCase()]) : 'AGENT';
      if (!role)
        problems.push({ field: colName('role'), row, value: roleText, reason: 'must be 普通坐席 or 企业管理员' });
      // The same field rules as CreateAgent; a DTO field's problem is reported under its column.
      const dto = plainToInstance(CreateAgentDto, {
        loginName: cell(cells, 'loginName'),
        realName: cell(cells, 'realName'),
        displayName: cell(cells, 'displayName'),
        phoneAddress: cell(cells, 'phoneAddress'),
      });
      for (const p of flatten(validateSync(dto)))
        problems.push({
          field: colName(p.field as Column),
          row,
          value: cell(cells, p.field as Column),
          reason: p.reason,
        });
      if (problems.length > before) continue;

      const login = normaliseLoginName(dto.loginName);
      if (!login.ok) problems.push({ field: colName('loginName'), row, value: dto.loginName, reason: login.reason });
      else if (loginRows.has(login.value))
        problems.push({
          field: colName('loginName'),
          row,
          value: dto.loginName,
          reason: `the same login name as row ${loginRows.get(login.value)}`,
        });
      else loginRows.set(login.value, row);
      const address = normalisePhoneAddress(dto.phoneAddress);
      if (!address.ok)
        problems.push({ field: colName('phoneAddress'), row, value: dto.phoneAddress, reason: address.reason });
      const refs = cell(cells, 'skillGroups')
        .split(LIST_SEPARATORS)
        .map((s) => s.trim())
        .filter(Boolean);
      const resolved = resolveSkillGroups(refs, groups);
      if (resolved.unknown.length)
        problems.push({
          field: colName('skillGroups'),
          row,
          value: resolved.unknown.join(', '),
          reason: 'the tenant has no such skill group',
        });
      if (problems.length > before || !login.ok || !address.ok || !role) continue;
      candidates.push({
        row,
        doc: {
          loginName: login.value,
          realName: dto.realName,
          displayName: dto.displayName,
          skillGroupIds: resolved.ids,
          role,
          phoneAddress: address.value,
          freeze: null,
          lastUnfreeze: null,
          hotlineSettings: null,
        },
      });
    }
    if (!candidates.length && !problems.length)
      throw new ValidationFailed('no agents in the file', [{ field: 'file', reason: 'the file has no agent rows' }]);

    return withDocLock(agentsLock(tenantId), async () => {
      const existing = await this.repos.agents.agentsByLoginName(
        tenantId,
        candidates.map((c) => c.doc.loginName),
      );
      const taken = new Set(existing.map((a) => a.loginName));
      for (const c of candidates)
        if (taken.has(c.doc.loginName))
          problems.push({
            field: colName('loginName'),
            row: c.row,
            value: c.doc.loginName,
            reason: 'already the login name of an agent of the tenant',
          });
      if (problems.length) {
        problems.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
        throw new ValidationFailed(
          `${problems.length} problem(s); nothing was imported`,
          problems.slice(0, MAX_PROBLEMS),
        );
      }
      const now = new Date();
      const docs: AgentDoc[] = candidates.map((c) => ({
        ...c.doc,
        _id: randomBytes(6).toString('hex'),
        tenantId,
        createdAt: now,
        updatedAt: now,
      }));
      await this.agents.storeWithPhones(docs, now);
      const items = await Promise.all(docs.map((d) => this.agents.get(tenantId, d._id)));
      return { imported: docs.length, items };
    });
  }
}
