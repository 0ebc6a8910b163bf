/**
 * Skill groups, departments, agents, their states and the tenants' hotline settings (seed §5.2, §5.4). Six small
 * collections, every document carrying its tenant:
 *
 * - `departments`          (`_id` = department id) 部门 / 技能组分组: groups skill groups.
 * - `skill_groups`         (`_id` = skill group id) 技能组, with its department.
 * - `agents`               (`_id` = agent id; the PJSIP endpoint in Asterisk is `agent-<id>`) 坐席: names, skill
 *                          groups, role, the phone's address, a freeze, the agent's own hotline settings.
 * - `agent_states`         (`_id` = agent id) the current state, when it began, since when the agent is idle, and the
 *                          reservation of the call offered to it. The transfer queue's hot path reads and writes
 *                          these by exact `_id`; each write is a compare-and-set on `version`, queued per document
 *                          inside the process (withDocLock: FerretDB 1.24 loses concurrent updates of one document).
 * - `agent_state_history`  (`_id` = `<agentId>/<UTC day yyyy-MM-dd>`) one bucket per agent and day holding that
 *                          day's state changes; appended by exact `_id` (upsert + `$push`), read by exact `_id`s.
 * - `agent_settings`       (`_id` = tenant id) the tenant's hotline settings (热线设置); absent = the defaults.
 *
 * Every method takes the tenant, except {@link AgentRepository.allAgentPhones} (a media worker pushes every agent's
 * phone to Asterisk at start-up). Names and login names are unique per tenant: the API checks under a per-tenant
 * lock (no secondary unique indexes, which FerretDB 1.24 serves badly).
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { AgentState, Freeze, HotlineSettings, TenantHotlineSettings } from '../agents/agent-states';
import { withDocLock } from './doc-lock';

/** 应用渠道: 在线 / 热线 / 工单. */
export const SKILL_GROUP_CHANNELS = ['ONLINE', 'HOTLINE', 'TICKET'] as const;
export type SkillGroupChannel = (typeof SKILL_GROUP_CHANNELS)[number];

/** 角色: 普通坐席 (no role) or 企业管理员. Descriptive: what a caller may do is decided by its API key's roles. */
export const AGENT_ROLES = ['AGENT', 'ENTERPRISE_ADMIN'] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

export interface DepartmentDoc {
  _id: string;
  tenantId: string;
  /** 技能组分组名称 */
  name: string;
  description?: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface SkillGroupDoc {
  _id: string;
  tenantId: string;
  /** 技能组名称 */
  name: string;
  /** 对外展示名 */
  displayName: string;
  /** 应用渠道 */
  channel: SkillGroupChannel;
  /** 转交是否可见: shown as a transfer target to agents. */
  transferVisible: boolean;
  description?: string;
  /** 部门 (技能组分组) */
  departmentId?: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface AgentDoc {
  _id: string;
  tenantId: string;
  /** 登录名: an e-mail address (lower case) or a phone number (E.164). */
  loginName: string;
  /** 真实姓名 */
  realName: string;
  /** 对外展示名 */
  displayName: string;
  skillGroupIds: string[];
  role: AgentRole;
  /** The agent's SIP phone, host:port: the contact of its PJSIP aor. */
  phoneAddress: string;
  freeze?: Freeze | null;
  /** The last 解冻 (unfreeze), with its reason. */
  lastUnfreeze?: { reason?: string; at: Date } | null;
  /** The agent's own hotline settings (used only while the tenant allows them). */
  hotlineSettings?: Partial<HotlineSettings> | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Reservation {
  callId: string;
  at: Date;
}

export interface AgentStateDoc {
  /** The agent id. */
  _id: string;
  tenantId: string;
  state: AgentState;
  /** The break reason of SHORT_BREAK. */
  reason?: string | null;
  /** When the current state began. */
  since: Date;
  /** When the agent last became free for calls (went online, or a call it held was released while online). */
  idleSince?: Date | null;
  /** The call offered to (or connected with) the agent; none = idle when ONLINE. */
  reservation?: Reservation | null;
  version: number;
}

export interface StateHistoryEntry {
  at: Date;
  from: AgentState;
  to: AgentState;
  reason?: string;
  /** Who changed it: `queue`, `system`, or the API caller's role. */
  by: string;
  callId?: string;
  /** Why, when not a break reason (e.g. `frozen: <reason>`). */
  note?: string;
}

export interface StateHistoryBucketDoc {
  _id: string;
  tenantId: string;
  agentId: string;
  day: string;
  entries: StateHistoryEntry[];
}

export interface AgentSettingsDoc extends TenantHotlineSettings {
  _id: string;
  updatedAt: Date;
}

const departmentSchema = new Schema<DepartmentDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    name: { type: String, required: true },
    description: String,
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'departments', versionKey: false },
);
// GET /departments (a tenant's departments by name) and the duplicate-name check.
departmentSchema.index({ tenantId: 1, name: 1 });

const skillGroupSchema = new Schema<SkillGroupDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    name: { type: String, required: true },
    displayName: { type: String, required: true },
    channel: { type: String, required: true },
    transferVisible: { type: Boolean, required: true },
    description: String,
    departmentId: String,
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'skill_groups', versionKey: false },
);
// GET /skill-groups (by name) and the duplicate-name check.
skillGroupSchema.index({ tenantId: 1, name: 1 });
// A department's skill groups (filter, and naming them when the department cannot be deleted).
skillGroupSchema.index({ tenantId: 1, departmentId: 1 });

const agentSchema = new Schema<AgentDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    loginName: { type: String, required: true },
    realName: { type: String, required: true },
    displayName: { type: String, required: true },
    skillGroupIds: { type: [String], default: [] },
    role: { type: String, required: true },
    phoneAddress: { type: String, required: true },
    freeze: { type: Schema.Types.Mixed, default: null },
    lastUnfreeze: { type: Schema.Types.Mixed, default: null },
    hotlineSettings: { type: Schema.Types.Mixed, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'agents', versionKey: false, minimize: false },
);
// GET /agents (by login name) and the duplicate-login check.
agentSchema.index({ tenantId: 1, loginName: 1 });
// A skill group's agents: the transfer queue's candidates, and naming them when the group cannot be deleted.
agentSchema.index({ tenantId: 1, skillGroupIds: 1 });

const stateSchema = new Schema<AgentStateDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    state: { type: String, required: true },
    reason: { type: String, default: null },
    since: { type: Date, required: true },
    idleSince: { type: Date, default: null },
    reservation: { type: Schema.Types.Mixed, default: null },
    version: { type: Number, required: true, default: 0 },
  },
  // Read and written by exact `_id` (a group's agents by `_id` $in: tens to hundreds of ids).
  { collection: 'agent_states', versionKey: false, minimize: false },
);

const historySchema = new Schema<StateHistoryBucketDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    agentId: { type: String, required: true },
    day: { type: String, required: true },
    entries: { type: Schema.Types.Mixed, default: [] },
  },
  // Exact `_id`s only (agent × day).
  { collection: 'agent_state_history', versionKey: false, minimize: false },
);

const settingsSchema = new Schema<AgentSettingsDoc>(
  {
    _id: { type: String, required: true },
    autoAnswer: { type: Schema.Types.Mixed, required: true },
    autoEndAfterCallWork: { type: Schema.Types.Mixed, required: true },
    allowAgentOverride: { type: Boolean, required: true },
    updatedAt: { type: Date, required: true },
  },
  // Exact `_id` (the tenant) only.
  { collection: 'agent_settings', versionKey: false },
);

export interface AgentModels {
  departments: Model<DepartmentDoc>;
  skillGroups: Model<SkillGroupDoc>;
  agents: Model<AgentDoc>;
  states: Model<AgentStateDoc>;
  history: Model<StateHistoryBucketDoc>;
  settings: Model<AgentSettingsDoc>;
}

export async function openAgentRepository(conn: Connection): Promise<AgentRepository> {
  const m: AgentModels = {
    departments: conn.model<DepartmentDoc>('Department', departmentSchema),
    skillGroups: conn.model<SkillGroupDoc>('SkillGroup', skillGroupSchema),
    agents: conn.model<AgentDoc>('Agent', agentSchema),
    states: conn.model<AgentStateDoc>('AgentState', stateSchema),
    history: conn.model<StateHistoryBucketDoc>('AgentStateHistory', historySchema),
    settings: conn.model<AgentSettingsDoc>('AgentSettings', settingsSchema),
  };
  await Promise.all(Object.values(m).map((model: Model<unknown>) => model.init()));
  return new AgentRepository(m);
}

/** The UTC day of an instant, the history bucket's key. */
export const historyDay = (at: Date) => at.toISOString().slice(0, 10);

type Page<T> = { items: T[]; total: number };

export class AgentRepository {
  constructor(private readonly m: AgentModels) {}

  // ---- departments ----

  async createDepartment(doc: DepartmentDoc): Promise<void> {
    await this.m.departments.create(doc);
  }

  async getDepartment(tenantId: string, id: string): Promise<DepartmentDoc | null> {
    return this.m.departments.findOne({ _id: id, tenantId }).lean<DepartmentDoc>().exec();
  }

  async findDepartmentByName(tenantId: string, name: string): Promise<DepartmentDoc | null> {
    return this.m.departments.findOne({ tenantId, name }).lean<DepartmentDoc>().exec();
  }

  async listDepartments(tenantId: string, skip: number, limit: number): Promise<Page<DepartmentDoc>> {
    const [items, total] = await Promise.all([
      this.m.departments.find({ tenantId }).sort({ name: 1 }).skip(skip).limit(limit).lean<DepartmentDoc[]>().exec(),
      this.m.departments.countDocuments({ tenantId }).exec(),
    ]);
    return { items, total };
  }

  async updateDepartment(
    tenantId: string,
    id: string,
    set: Partial<Pick<DepartmentDoc, 'name' | 'description'>>,
    unset: 'description'[] = [],
  ): Promise<DepartmentDoc | null> {
    return withDocLock(`departments/${id}`, () =>
      this.m.departments
        .findOneAndUpdate({ _id: id, tenantId }, updateOf(set, unset), { new: true })
        .lean<DepartmentDoc>()
        .exec(),
    );
  }

  async deleteDepartment(tenantId: string, id: string): Promise<boolean> {
    return (await this.m.departments.deleteOne({ _id: id, tenantId }).exec()).deletedCount === 1;
  }

  // ---- skill groups ----

  async createSkillGroup(doc: SkillGroupDoc): Promise<void> {
    await this.m.skillGroups.create(doc);
  }

  async getSkillGroup(tenantId: string, id: string): Promise<SkillGroupDoc | null> {
    return this.m.skillGroups.findOne({ _id: id, tenantId }).lean<SkillGroupDoc>().exec();
  }

  async findSkillGroupByName(tenantId: string, name: string): Promise<SkillGroupDoc | null> {
    return this.m.skillGroups.findOne({ tenantId, name }).lean<SkillGroupDoc>().exec();
  }

  /** The tenant's skill groups among `ids` (exact ids). */
  async skillGroupsById(tenantId: string, ids: string[]): Promise<SkillGroupDoc[]> {
    if (!ids.length) return [];
    return this.m.skillGroups
      .find({ _id: { $in: ids }, tenantId })
      .lean<SkillGroupDoc[]>()
      .exec();
  }

  /** Every skill group of the tenant (for resolving names in an import: a tenant has tens to hundreds). */
  async allSkillGroups(tenantId: string): Promise<SkillGroupDoc[]> {
    return this.m.skillGroups.find({ tenantId }).lean<SkillGroupDoc[]>().exec();
  }

  async listSkillGroups(
    tenantId: string,
    filter: { departmentId?: string },
    skip: number,
    limit: number,
  ): Promise<Page<SkillGroupDoc>> {
    const q = { tenantId, ...(filter.departmentId ? { departmentId: filter.departmentId } : {}) };
    const [items, total] = await Promise.all([
      this.m.skillGroups.find(q).sort({ name: 1 }).skip(skip).limit(limit).lean<SkillGroupDoc[]>().exec(),
      this.m.skillGroups.countDocuments(q).exec(),
    ]);
    return { items, total };
  }

  /** Up to `limit` skill groups of a department (its members). */
  async skillGroupsOfDepartment(tenantId: string, departmentId: string, limit: number): Promise<SkillGroupDoc[]> {
    return this.m.skillGroups
      .find({ tenantId, departmentId })
      .sort({ name: 1 })
      .limit(limit)
      .lean<SkillGroupDoc[]>()
      .exec();
  }

  async updateSkillGroup(
    tenantId: string,
    id: string,
    set: Partial<Pick<SkillGroupDoc, 'name' | 'displayName' | 'channel' | 'transferVisible' | 'description'>> & {
      departmentId?: string;
    },
    unset: ('description' | 'departmentId')[] = [],
  ): Promise<SkillGroupDoc | null> {
    return withDocLock(`skill_groups/${id}`, () =>
      this.m.skillGroups
        .findOneAndUpdate({ _id: id, tenantId }, updateOf(set, unset), { new: true })
        .lean<SkillGroupDoc>()
        .exec(),
    );
  }

  async deleteSkillGroup(tenantId: string, id: string): Promise<boolean> {
    return (await this.m.skillGroups.deleteOne({ _id: id, tenantId }).exec()).deletedCount === 1;
  }

  // ---- agents ----

  /** Insert agents with their initial state documents (未上班). All or nothing: a failure removes what was written. */
  async createAgents(docs: AgentDoc[], now: Date): Promise<void> {
    if (!docs.length) return;
    const states: AgentStateDoc[] = docs.map((a) => ({
      _id: a._id,
      tenantId: a.tenantId,
      state: 'NOT_STARTED',
      reason: null,
      since: now,
      idleSince: null,
      reservation: null,
      version: 0,
    }));
    try {
      await this.m.agents.insertMany(docs, { ordered: true });
      await this.m.states.insertMany(states, { ordered: true });
    } catch (err) {
      const ids = docs.map((d) => d._id);
      await this.m.agents.deleteMany({ _id: { $in: ids } }).exec();
      await this.m.states.deleteMany({ _id: { $in: ids } }).exec();
      throw err;
    }
  }

  async getAgent(tenantId: string, id: string): Promise<AgentDoc | null> {
    return this.m.agents.findOne({ _id: id, tenantId }).lean<AgentDoc>().exec();
  }

  /** The tenant's agents among these login names. */
  async agentsByLoginName(tenantId: string, loginNames: string[]): Promise<AgentDoc[]> {
    if (!loginNames.length) return [];
    return this.m.agents
      .find({ tenantId, loginName: { $in: loginNames } })
      .lean<AgentDoc[]>()
      .exec();
  }

  async listAgents(
    tenantId: string,
    filter: { skillGroupId?: string },
    skip: number,
    limit: number,
  ): Promise<Page<AgentDoc>> {
    const q = { tenantId, ...(filter.skillGroupId ? { skillGroupIds: filter.skillGroupId } : {}) };
    const [items, total] = await Promise.all([
      this.m.agents.find(q).sort({ loginName: 1 }).skip(skip).limit(limit).lean<AgentDoc[]>().exec(),
      this.m.agents.countDocuments(q).exec(),
    ]);
    return { items, total };
  }

  /** Agents of a skill group: up to `limit` (default all). */
  async agentsOfSkillGroup(tenantId: string, skillGroupId: string, limit = 0): Promise<AgentDoc[]> {
    const q = this.m.agents.find({ tenantId, skillGroupIds: skillGroupId }).sort({ loginName: 1 });
    return (limit ? q.limit(limit) : q).lean<AgentDoc[]>().exec();
  }

  async updateAgent(
    tenantId: string,
    id: string,
    set: Partial<
      Pick<
        AgentDoc,
        | 'loginName'
        | 'realName'
        | 'displayName'
        | 'skillGroupIds'
        | 'role'
        | 'phoneAddress'
        | 'freeze'
        | 'lastUnfreeze'
        | 'hotlineSettings'
      >
    >,
  ): Promise<AgentDoc | null> {
    return withDocLock(`agents/${id}`, () =>
      this.m.agents
        .findOneAndUpdate({ _id: id, tenantId }, { $set: { ...set, updatedAt: new Date() } }, { new: true })
        .lean<AgentDoc>()
        .exec(),
    );
  }

  /** Delete the agent and its current state (its history stays, for reports). */
  async deleteAgent(tenantId: string, id: string): Promise<boolean> {
    const res = await this.m.agents.deleteOne({ _id: id, tenantId }).exec();
    if (res.deletedCount === 1) await this.m.states.deleteOne({ _id: id, tenantId }).exec();
    return res.deletedCount === 1;
  }

  /** Every tenant's agent phones: what a media worker pushes to Asterisk when it starts. */
  async allAgentPhones(): Promise<{ agentId: string; phoneAddress: string }[]> {
    const docs = await this.m.agents
      .find({}, { _id: 1, phoneAddress: 1 })
      .lean<Pick<AgentDoc, '_id' | 'phoneAddress'>[]>()
      .exec();
    return docs.map((d) => ({ agentId: d._id, phoneAddress: d.phoneAddress }));
  }

  // ---- states ----

  /** The agent's state document; one missing (an agent stored before states existed) is created as 未上班. */
  async loadState(tenantId: string, agentId: string): Promise<AgentStateDoc> {
    const doc = await this.m.states.findOne({ _id: agentId }).lean<AgentStateDoc>().exec();
    if (doc) return doc;
    await this.m.states
      .updateOne(
        { _id: agentId },
        {
          $setOnInsert: {
            tenantId,
            state: 'NOT_STARTED',
            reason: null,
            since: new Date(),
            idleSince: null,
            reservation: null,
            version: 0,
          },
        },
        { upsert: true },
      )
      .exec();
    const created = await this.m.states.findOne({ _id: agentId }).lean<AgentStateDoc>().exec();
    if (!created) throw new Error(`state of agent ${agentId} vanished`);
    return created;
  }

  /** Current states of these agents (exact `_id`s); agents without a document are left out. */
  async statesOf(tenantId: string, agentIds: string[]): Promise<AgentStateDoc[]> {
    if (!agentIds.length) return [];
    return this.m.states
      .find({ _id: { $in: agentIds }, tenantId })
      .lean<AgentStateDoc[]>()
      .exec();
  }

  /**
   * Compare-and-set of the state document: applies `set` only if the document still has `version`; true if it did.
   * **Call it inside withDocLock(`agent_states/<agentId>`)**: FerretDB 1.24 can lose a concurrent CAS.
   */
  async casState(
    agentId: string,
    version: number,
    set: Partial<Pick<AgentStateDoc, 'state' | 'reason' | 'since' | 'idleSince' | 'reservation'>>,
  ): Promise<boolean> {
    const res = await this.m.states.updateOne({ _id: agentId, version }, { $set: set, $inc: { version: 1 } }).exec();
    return res.matchedCount === 1;
  }

  // ---- history ----

  /** Append a state change to the agent's bucket of that UTC day (exact `_id`, upsert). */
  async appendHistory(tenantId: string, agentId: string, entry: StateHistoryEntry): Promise<void> {
    const day = historyDay(entry.at);
    const _id = `${agentId}/${day}`;
    // Written without undefined fields (FerretDB stores them as null).
    const clean = Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined));
    await withDocLock(`agent_state_history/${_id}`, () =>
      this.m.history
        .updateOne({ _id }, { $setOnInsert: { tenantId, agentId, day }, $push: { entries: clean } }, { upsert: true })
        .exec(),
    );
  }

  /** The agent's state changes on these UTC days (exact bucket `_id`s), oldest first. */
  async history(tenantId: string, agentId: string, days: string[]): Promise<StateHistoryEntry[]> {
    if (!days.length) return [];
    const buckets = await this.m.history
      .find({ _id: { $in: days.map((d) => `${agentId}/${d}`) }, tenantId })
      .lean<StateHistoryBucketDoc[]>()
      .exec();
    return buckets
      .sort((a, b) => a.day.localeCompare(b.day))
      .flatMap((b) => b.entries ?? [])
      .map((e) => ({ ...e, at: new Date(e.at) }));
  }

  // ---- tenant settings ----

  async getSettings(tenantId: string): Promise<AgentSettingsDoc | null> {
    return this.m.settings.findOne({ _id: tenantId }).lean<AgentSettingsDoc>().exec();
  }

  async putSettings(tenantId: string, settings: TenantHotlineSettings): Promise<AgentSettingsDoc> {
    const doc = await withDocLock(`agent_settings/${tenantId}`, () =>
      this.m.settings
        .findOneAndUpdate(
          { _id: tenantId },
          { $set: { ...settings, updatedAt: new Date() } },
          { upsert: true, new: true },
        )
        .lean<AgentSettingsDoc>()
        .exec(),
    );
    if (!doc) throw new Error(`settings of ${tenantId} vanished`);
    return doc;
  }
}

function updateOf<T extends object>(set: T, unset: string[]) {
  return {
    $set: { ...set, updatedAt: new Date() },
    ...(unset.length ? { $unset: Object.fromEntries(unset.map((k) => [k, ''])) } : {}),
  };
}
