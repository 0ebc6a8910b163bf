/**
 * Caller lines and numbers (seed §6.2 自有线路管理 / 自有号码管理, §6.3 号码组 and 呼出生效范围), and each line's slot
 * document for its total concurrency (总并发).
 *
 * - `lines` (`_id` = line id, also the PJSIP endpoint and aor name in Asterisk): a SIP trunk of one tenant.
 * - `caller_numbers` (`_id` = the E.164 number): a number belongs to one enterprise (seed §6.1 "每个语音号码必须实名到一个
 *   企业"), so the number itself is the key across tenants; every read still filters by the tenant.
 * - `line_slots` (`_id` = line id): the attempts holding one of the line's call slots right now. One small document
 *   per line, shared by every task and tenant dialling through the line, changed by compare-and-set on `version` and
 *   queued per document inside the process (withDocLock: FerretDB 1.24 loses concurrent updates).
 *
 * Every method takes the tenant, except the slot operations (a line's concurrency is global to the line) and
 * {@link LineRepository.allLines} (the media worker re-pushes every line to Asterisk at start-up).
 */
import { Schema, type Connection, type Model } from 'mongoose';
import { withDocLock } from './doc-lock';
import type { TaskDoc } from './schemas';

export interface LineDoc {
  _id: string;
  tenantId: string;
  /** 线路名称 */
  name: string;
  /** 线路地址: host:port the INVITEs go to. */
  address: string;
  /** 总并发: calls through the line at once, across all tasks and tenants. */
  concurrency: number;
  /** 启用状态: a disabled line takes no new calls (calls in progress finish). */
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** 呼出生效范围: every skill group, or only the listed ones. */
export type OutboundScope = 'ALL' | 'SOME';
/** 有效 / 无效: an invalid number is never dialled from. */
export type NumberStatus = 'VALID' | 'INVALID';

export interface CallerNumberDoc {
  /** E.164. */
  _id: string;
  tenantId: string;
  lineId: string;
  /** 号码组 */
  numberGroup?: string;
  outboundScope: OutboundScope;
  /** Skill groups that may use the number when `outboundScope` is SOME (agent outbound, transfers). */
  skillGroups: string[];
  status: NumberStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface SlotHolder {
  attemptId: string;
  tenantId: string;
  callerNumber: string;
  /** When the slot was taken (ms since epoch); a holder older than the allocator's maxHoldMs is reclaimed. */
  at: number;
}

export interface LineSlotsDoc {
  _id: string;
  holders: SlotHolder[];
  version: number;
}

const lineSchema = new Schema<LineDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    name: { type: String, required: true },
    address: { type: String, required: true },
    concurrency: { type: Number, required: true },
    enabled: { type: Boolean, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'lines', versionKey: false },
);
// GET /lines (a tenant's lines, newest first) and the duplicate-name check.
lineSchema.index({ tenantId: 1, createdAt: -1 });

const numberSchema = new Schema<CallerNumberDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    lineId: { type: String, required: true },
    numberGroup: String,
    outboundScope: { type: String, required: true },
    skillGroups: { type: [String], default: [] },
    status: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'caller_numbers', versionKey: false },
);
// GET /caller-numbers (a tenant's numbers in order) and, with lineId, the numbers of one line (list filter, and the
// refusal to delete a line that still has numbers). The allocator reads numbers by `_id` only.
numberSchema.index({ tenantId: 1, lineId: 1, _id: 1 });
numberSchema.index({ tenantId: 1, _id: 1 });

const slotsSchema = new Schema<LineSlotsDoc>(
  {
    _id: { type: String, required: true },
    holders: { type: Schema.Types.Mixed, default: [] },
    version: { type: Number, required: true, default: 0 },
  },
  // Read and written by exact `_id` only.
  { collection: 'line_slots', versionKey: false, minimize: false },
);

export interface LineModels {
  lines: Model<LineDoc>;
  numbers: Model<CallerNumberDoc>;
  slots: Model<LineSlotsDoc>;
}

/** `tasks` is read only to name the live tasks that still use a number (see {@link LineRepository.tasksUsing}). */
export async function openLineRepository(conn: Connection, tasks: Model<TaskDoc>): Promise<LineRepository> {
  const models: LineModels = {
    lines: conn.model<LineDoc>('Line', lineSchema),
    numbers: conn.model<CallerNumberDoc>('CallerNumber', numberSchema),
    slots: conn.model<LineSlotsDoc>('LineSlots', slotsSchema),
  };
  await Promise.all([models.lines.init(), models.numbers.init(), models.slots.init()]);
  return new LineRepository(models, tasks);
}

/** What {@link LineRepository.takeSlot} did. */
export type SlotTake =
  | { kind: 'taken'; holder: SlotHolder }
  /** The attempt already held a slot of this line: the same grant again. */
  | { kind: 'held'; holder: SlotHolder }
  | { kind: 'full'; holders: number };

const MAX_TRIES = 20;

export class LineRepository {
  constructor(
    private readonly m: LineModels,
    private readonly tasks: Model<TaskDoc>,
  ) {}

  // ---- lines ----

  async createLine(doc: LineDoc): Promise<void> {
    await this.m.lines.create(doc);
  }

  async getLine(tenantId: string, lineId: string): Promise<LineDoc | null> {
    return this.m.lines.findOne({ _id: lineId, tenantId }).lean<LineDoc>().exec();
  }

  async findLineByName(tenantId: string, name: string): Promise<LineDoc | null> {
    return this.m.lines.findOne({ tenantId, name }).lean<LineDoc>().exec();
  }

  async listLines(tenantId: string, skip: number, limit: number): Promise<{ items: LineDoc[]; total: number }> {
    const [items, total] = await Promise.all([
      this.m.lines.find({ tenantId }).sort({ createdAt: -1 }).skip(skip).limit(limit).lean<LineDoc[]>().exec(),
      this.m.lines.countDocuments({ tenantId }).exec(),
    ]);
    return { items, total };
  }

  /** Apply `changes`; returns the line as it is now, or null when the tenant has no such line. */
  async updateLine(
    tenantId: string,
    lineId: string,
    changes: Partial<Pick<LineDoc, 'name' | 'address' | 'concurrency' | 'enabled'>>,
  ): Promise<LineDoc | null> {
    return withDocLock(`lines/${lineId}`, () =>
      this.m.lines
        .findOneAndUpdate({ _id: lineId, tenantId }, { $set: { ...changes, updatedAt: new Date() } }, { new: true })
        .lean<LineDoc>()
        .exec(),
    );
  }

  async deleteLine(tenantId: string, lineId: string): Promise<boolean> {
    const res = await this.m.lines.deleteOne({ _id: lineId, tenantId }).exec();
    if (res.deletedCount === 1) await this.m.slots.deleteOne({ _id: lineId }).exec();
    return res.deletedCount === 1;
  }

  /** Every tenant's lines: what a media worker pushes to Asterisk when it starts. */
  async allLines(): Promise<LineDoc[]> {
    return this.m.lines.find({}).lean<LineDoc[]>().exec();
  }

  /** Lines by id, of any tenant (the allocator checks the tenant itself). */
  async linesById(lineIds: string[]): Promise<LineDoc[]> {
    if (!lineIds.length) return [];
    return this.m.lines
      .find({ _id: { $in: lineIds } })
      .lean<LineDoc[]>()
      .exec();
  }

  // ---- caller numbers ----

  /** Numbers among `numbers` that exist already, of any tenant (a number belongs to one enterprise). */
  async existingNumbers(numbers: string[]): Promise<{ _id: string; tenantId: string }[]> {
    if (!numbers.length) return [];
    return this.m.numbers
      .find({ _id: { $in: numbers } }, { _id: 1, tenantId: 1 })
      .lean<{ _id: string; tenantId: string }[]>()
      .exec();
  }

  async addNumbers(docs: CallerNumberDoc[]): Promise<void> {
    if (docs.length) await this.m.numbers.insertMany(docs, { ordered: true });
  }

  async getNumber(tenantId: string, e164: string): Promise<CallerNumberDoc | null> {
    return this.m.numbers.findOne({ _id: e164, tenantId }).lean<CallerNumberDoc>().exec();
  }

  /** The tenant's numbers among `numbers` (E.164), read by `_id`. */
  async numbersById(tenantId: string, numbers: string[]): Promise<CallerNumberDoc[]> {
    if (!numbers.length) return [];
    return this.m.numbers
      .find({ _id: { $in: numbers }, tenantId })
      .lean<CallerNumberDoc[]>()
      .exec();
  }

  async listNumbers(
    tenantId: string,
    filter: { lineId?: string; numberGroup?: string },
    skip: number,
    limit: number,
  ): Promise<{ items: CallerNumberDoc[]; total: number }> {
    const q = {
      tenantId,
      ...(filter.lineId ? { lineId: filter.lineId } : {}),
      ...(filter.numberGroup ? { numberGroup: filter.numberGroup } : {}),
    };
    const [items, total] = await Promise.all([
      this.m.numbers.find(q).sort({ _id: 1 }).skip(skip).limit(limit).lean<CallerNumberDoc[]>().exec(),
      this.m.numbers.countDocuments(q).exec(),
    ]);
    return { items, total };
  }

  /** Up to `limit` numbers of one line (to name them when a line cannot be deleted). */
  async numbersOfLine(tenantId: string, lineId: string, limit: number): Promise<string[]> {
    const docs = await this.m.numbers
      .find({ tenantId, lineId }, { _id: 1 })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<{ _id: string }[]>()
      .exec();
    return docs.map((d) => d._id);
  }

  async updateNumber(
    tenantId: string,
    e164: string,
    changes: Partial<Pick<CallerNumberDoc, 'lineId' | 'numberGroup' | 'outboundScope' | 'skillGroups' | 'status'>>,
    unset: ('numberGroup' | 'skillGroups')[] = [],
  ): Promise<CallerNumberDoc | null> {
    return withDocLock(`caller_numbers/${e164}`, () =>
      this.m.numbers
        .findOneAndUpdate(
          { _id: e164, tenantId },
          {
            $set: { ...changes, updatedAt: new Date() },
            ...(unset.length ? { $unset: Object.fromEntries(unset.map((k) => [k, ''])) } : {}),
          },
          { new: true },
        )
        .lean<CallerNumberDoc>()
        .exec(),
    );
  }

  async deleteNumber(tenantId: string, e164: string): Promise<boolean> {
    const res = await this.m.numbers.deleteOne({ _id: e164, tenantId }).exec();
    return res.deletedCount === 1;
  }

  /**
   * Up to `limit` tasks of the tenant, not yet completed or cancelled, that dial from any of `numbers` (their
   * `callerNumber`, or `callerNumbers` once tasks carry several).
   */
  async tasksUsing(tenantId: string, numbers: string[], limit = 10): Promise<{ _id: string; name: string }[]> {
    if (!numbers.length) return [];
    return this.tasks
      .find(
        {
          tenantId,
          status: { $in: ['NOT_STARTED', 'RUNNING', 'PAUSED'] },
          $or: [{ callerNumber: { $in: numbers } }, { callerNumbers: { $in: numbers } }],
        },
        { _id: 1, name: 1 },
      )
      .limit(limit)
      .lean<{ _id: string; name: string }[]>()
      .exec();
  }

  // ---- line slots (总并发) ----

  /** Slot documents of these lines (exact `_id`s); a line nobody dialled through yet has none. */
  async slotsOf(lineIds: string[]): Promise<LineSlotsDoc[]> {
    if (!lineIds.length) return [];
    return this.m.slots
      .find({ _id: { $in: lineIds } })
      .lean<LineSlotsDoc[]>()
      .exec();
  }

  /**
   * Take one of the line's `concurrency` slots for `holder.attemptId`, unless the attempt holds one already (the
   * same grant again) or the line is full. Holders taken before `staleBefore` are dropped first (lost processes).
   */
  async takeSlot(lineId: string, holder: SlotHolder, concurrency: number, staleBefore: number): Promise<SlotTake> {
    return withDocLock(`line_slots/${lineId}`, async () => {
      for (let i = 0; i < MAX_TRIES; i++) {
        const doc = await this.loadSlots(lineId);
        const live = doc.holders.filter((h) => h.at >= staleBefore);
        const mine = live.find((h) => h.attemptId === holder.attemptId);
        if (mine) return { kind: 'held', holder: mine };
        if (live.length >= concurrency) {
          if (live.length !== doc.holders.length) await this.casHolders(lineId, doc.version, live);
          return { kind: 'full', holders: live.length };
        }
        if (await this.casHolders(lineId, doc.version, [...live, holder])) return { kind: 'taken', holder };
      }
      throw new Error(`could not take a slot of line ${lineId}: too much contention`);
    });
  }

  /** Give the attempt's slot back; true if it held one. Harmless when it holds none. */
  async releaseSlot(lineId: string, attemptId: string): Promise<boolean> {
    return withDocLock(`line_slots/${lineId}`, async () => {
      for (let i = 0; i < MAX_TRIES; i++) {
        const doc = await this.m.slots.findOne({ _id: lineId }).lean<LineSlotsDoc>().exec();
        if (!doc?.holders.some((h) => h.attemptId === attemptId)) return false;
        const rest = doc.holders.filter((h) => h.attemptId !== attemptId);
        if (await this.casHolders(lineId, doc.version, rest)) return true;
      }
      throw new Error(`could not release a slot of line ${lineId}: too much contention`);
    });
  }

  private async loadSlots(lineId: string): Promise<LineSlotsDoc> {
    await this.m.slots
      .updateOne({ _id: lineId }, { $setOnInsert: { holders: [], version: 0 } }, { upsert: true })
      .exec();
    const doc = await this.m.slots.findOne({ _id: lineId }).lean<LineSlotsDoc>().exec();
    if (!doc) throw new Error(`slots of line ${lineId} vanished`);
    return { ...doc, holders: doc.holders ?? [] };
  }

  private async casHolders(lineId: string, version: number, holders: SlotHolder[]): Promise<boolean> {
    const res = await this.m.slots
      .updateOne({ _id: lineId, version }, { $set: { holders }, $inc: { version: 1 } })
      .exec();
    return res.matchedCount === 1;
  }
}
