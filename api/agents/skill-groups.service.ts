/**
 * Departments (部门 = 技能组分组) and skill groups (技能组), seed §5.4. Names are unique within a tenant (checked under a
 * per-tenant lock). DECISION C10: a skill group that still has agents, or a department that still has skill groups,
 * is not deleted; the refusal (409) names them.
 */
import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Repositories } from '../../activities/mongo/connection';
import type { DepartmentDoc, SkillGroupDoc } from '../../activities/mongo/agent-repository';
import { withDocLock } from '../../activities/mongo/doc-lock';
import { DomainError, NotFound, ValidationFailed, type FieldProblem } from '../../src/errors';
import { REPOSITORIES } from '../common/tokens';
import type { CreateDepartmentDto, CreateSkillGroupDto, UpdateDepartmentDto, UpdateSkillGroupDto } from './agent.dto';

/** How many members a refusal names at most. */
export const NAMED_AT_MOST = 10;

export class Conflict extends DomainError {
  constructor(message: string, problems: FieldProblem[]) {
    super(message, 409, problems);
    this.name = 'Conflict';
  }
}

export const newId = (prefix: string) => `${prefix}${randomBytes(6).toString('hex')}`;

/**
 * Per-tenant locks (this process) that keep a membership check and the write it guards together: agents are
 * written, and skill groups deleted, under {@link agentsLock}; skill groups written, and departments deleted, under
 * {@link skillGroupsLock}.
 */
export const agentsLock = (tenantId: string) => `agents-of/${tenantId}`;
export const skillGroupsLock = (tenantId: string) => `skill-groups-of/${tenantId}`;

export function departmentView(d: DepartmentDoc) {
  return {
    id: d._id,
    name: d.name,
    ...(d.description ? { description: d.description } : {}),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function skillGroupView(g: SkillGroupDoc) {
  return {
    id: g._id,
    name: g.name,
    displayName: g.displayName,
    channel: g.channel,
    transferVisible: g.transferVisible,
    ...(g.description ? { description: g.description } : {}),
    ...(g.departmentId ? { departmentId: g.departmentId } : {}),
    createdAt: g.createdAt,
    updatedAt: g.updatedAt,
  };
}

/** "a, b, c" or "a, b, … (at least 10)" */
export function nameList(names: string[]): string {
  return names.length >= NAMED_AT_MOST ? `${names.join(', ')}, … (at least ${NAMED_AT_MOST})` : names.join(', ');
}

@Injectable()
export class SkillGroupsService {
  constructor(@Inject(REPOSITORIES) private readonly repos: Repositories) {}

  private get repo() {
    return this.repos.agents;
  }

  // ---- departments ----

  private async departmentOr404(tenantId: string, id: string): Promise<DepartmentDoc> {
    const d = await this.repo.getDepartment(tenantId, id);
    if (!d) throw new NotFound(`department ${id}`);
    return d;
  }

  private async departmentNameFree(tenantId: string, name: string, exceptId?: string): Promise<void> {
    const other = await this.repo.findDepartmentByName(tenantId, name);
    if (other && other._id !== exceptId)
      throw new Conflict('a department with this name exists', [
        { field: 'name', value: name, reason: `the tenant already has a department named "${name}" (${other._id})` },
      ]);
  }

  async createDepartment(tenantId: string, dto: CreateDepartmentDto) {
    return withDocLock(`departments-of/${tenantId}`, async () => {
      await this.departmentNameFree(tenantId, dto.name);
      const now = new Date();
      const doc: DepartmentDoc = {
        _id: newId('dept-'),
        tenantId,
        name: dto.name,
        ...(dto.description ? { description: dto.description } : {}),
        createdAt: now,
        updatedAt: now,
      };
      await this.repo.createDepartment(doc);
      return departmentView(doc);
    });
  }

  async listDepartments(tenantId: string, page: number, pageSize: number) {
    const { items, total } = await this.repo.listDepartments(tenantId, (page - 1) * pageSize, pageSize);
    return { page, pageSize, total, items: items.map(departmentView) };
  }

  async getDepartment(tenantId: string, id: string) {
    return departmentView(await this.departmentOr404(tenantId, id));
  }

  async updateDepartment(tenantId: string, id: string, dto: UpdateDepartmentDto) {
    if (dto.name === undefined && dto.description === undefined)
      throw new ValidationFailed('nothing to change', [{ field: 'body', reason: 'give name or description' }]);
    return withDocLock(`departments-of/${tenantId}`, async () => {
      const current = await this.departmentOr404(tenantId, id);
      if (dto.name !== undefined && dto.name !== current.name) await this.departmentNameFree(tenantId, dto.name, id);
      const updated = await this.repo.updateDepartment(
        tenantId,
        id,
        {
          ...(dto.name !== undefined ? { name: dto.name } : {}),
          ...(typeof dto.description === 'string' ? { description: dto.description } : {}),
        },
        dto.description === null ? ['description'] : [],
      );
      if (!updated) throw new NotFound(`department ${id}`);
      return departmentView(updated);
    });
  }

  /** Refused (409) while skill groups belong to the department; the refusal names them. */
  async deleteDepartment(tenantId: string, id: string): Promise<void> {
    await withDocLock(skillGroupsLock(tenantId), async () => {
      await this.departmentOr404(tenantId, id);
      const members = await this.repo.skillGroupsOfDepartment(tenantId, id, NAMED_AT_MOST);
      if (members.length)
        throw new Conflict('the department still has skill groups', [
          {
            field: 'id',
            value: nameList(members.map((g) => `${g.name} (${g._id})`)),
            reason: 'move or delete the department’s skill groups first',
          },
        ]);
      await this.repo.deleteDepartment(tenantId, id);
    });
  }

  // ---- skill groups ----

  private async skillGroupOr404(tenantId: string, id: string): Promise<SkillGroupDoc> {
    const g = await this.repo.getSkillGroup(tenantId, id);
    if (!g) throw new NotFound(`skill group ${id}`);
    return g;
  }

  private async groupNameFree(tenantId: string, name: string, exceptId?: string): Promise<void> {
    const other = await this.repo.findSkillGroupByName(tenantId, name);
    if (other && other._id !== exceptId)
      throw new Conflict('a skill group with this name exists', [
        { field: 'name', value: name, reason: `the tenant already has a skill group named "${name}" (${other._id})` },
      ]);
  }

  private async departmentExists(tenantId: string, departmentId: string): Promise<void> {
    if (!(await this.repo.getDepartment(tenantId, departmentId)))
      throw new ValidationFailed('no such department', [
        { field: 'departmentId', value: departmentId, reason: 'the tenant has no such department' },
      ]);
  }

  async createSkillGroup(tenantId: string, dto: CreateSkillGroupDto) {
    return withDocLock(skillGroupsLock(tenantId), async () => {
      await this.groupNameFree(tenantId, dto.name);
      if (dto.departmentId) await this.departmentExists(tenantId, dto.departmentId);
      const now = new Date();
      const doc: SkillGroupDoc = {
        _id: newId('sg-'),
        tenantId,
        name: dto.name,
        displayName: dto.displayName,
        channel: dto.channel,
        transferVisible: dto.transferVisible,
        ...(dto.description ? { description: dto.description } : {}),
        ...(dto.departmentId ? { departmentId: dto.departmentId } : {}),
        createdAt: now,
        updatedAt: now,
      };
      await this.repo.createSkillGroup(doc);
      return skillGroupView(doc);
    });
  }

  async listSkillGroups(tenantId: string, filter: { departmentId?: string }, page: number, pageSize: number) {
    const { items, total } = await this.repo.listSkillGroups(tenantId, filter, (page - 1) * pageSize, pageSize);
    return { page, pageSize, total, items: items.map(skillGroupView) };
  }

  async getSkillGroup(tenantId: string, id: string) {
    return skillGroupView(await this.skillGroupOr404(tenantId, id));
  }

  async updateSkillGroup(tenantId: string, id: string, dto: UpdateSkillGroupDto) {
    const { name, displayName, channel, transferVisible, description, departmentId } = dto;
    if ([name, displayName, channel, transferVisible, description, departmentId].every((v) => v === undefined))
      throw new ValidationFailed('nothing to change', [
        {
          field: 'body',
          reason: 'give at least one of name, displayName, channel, transferVisible, description, departmentId',
        },
      ]);
    return withDocLock(skillGroupsLock(tenantId), async () => {
      const current = await this.skillGroupOr404(tenantId, id);
      if (name !== undefined && name !== current.name) await this.groupNameFree(tenantId, name, id);
      if (typeof departmentId === 'string') await this.departmentExists(tenantId, departmentId);
      const unset: ('description' | 'departmentId')[] = [];
      if (description === null) unset.push('description');
      if (departmentId === null) unset.push('departmentId');
      const updated = await this.repo.updateSkillGroup(
        tenantId,
        id,
        {
          ...(name !== undefined ? { name } : {}),
          ...(displayName !== undefined ? { displayName } : {}),
          ...(channel !== undefined ? { channel } : {}),
          ...(transferVisible !== undefined ? { transferVisible } : {}),
          ...(typeof description === 'string' ? { description } : {}),
          ...(typeof departmentId === 'string' ? { departmentId } : {}),
        },
        unset,
      );
      if (!updated) throw new NotFound(`skill group ${id}`);
      return skillGroupView(updated);
    });
  }

  /** Refused (409) while agents belong to the group; the refusal names them (DECISION C10). */
  async deleteSkillGroup(tenantId: string, id: string): Promise<void> {
    await withDocLock(agentsLock(tenantId), async () => {
      await this.skillGroupOr404(tenantId, id);
      const members = await this.repo.agentsOfSkillGroup(tenantId, id, NAMED_AT_MOST);
      if (members.length)
        throw new Conflict('the skill group still has agents', [
          {
            field: 'id',
            value: nameList(members.map((a) => `${a.displayName} (${a.loginName})`)),
            reason: 'remove the agents from the skill group first (人员 → 技能组)',
          },
        ]);
      await this.repo.deleteSkillGroup(tenantId, id);
    });
  }
}
