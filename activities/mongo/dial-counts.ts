/**
 * Calls per number per local day, for the tenant's frequency cap (src/frequency-cap.ts). One small document per
 * number (`_id` = `<tenantId>/<e164>`), read and written by exact `_id` (an atomic `$inc`, then a re-check), so two
 * tasks dialling the same number at once cannot both slip under the cap.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import { withDocLock } from './doc-lock';
import { checkCap, pruneCounts, type CapDecision, type DayCounts, type FrequencyCap } from '../../src/frequency-cap';

export interface DialCountDoc {
  _id: string;
  tenantId: string;
  days: DayCounts;
  version: number;
}

const schema = new Schema<DialCountDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    days: { type: Schema.Types.Mixed, default: {} },
    version: { type: Number, required: true, default: 0 },
  },
  { collection: 'dial_counts', versionKey: false, minimize: false },
);

export function registerDialCounts(conn: Connection): Model<DialCountDoc> {
  return conn.model<DialCountDoc>('DialCount', schema);
}

export class DialCountRepository {
  constructor(private readonly model: Model<DialCountDoc>) {}

  /** If the cap allows a call at `atMs`, count it and say so; otherwise say from when it will. */
  async tryRecord(tenantId: string, phone: string, cap: FrequencyCap, atMs: number): Promise<CapDecision> {
    return withDocLock(`dial_counts/${tenantId}/${phone}`, () => this.tryRecordNow(tenantId, phone, cap, atMs));
  }

  /**
   * Filters are `{ _id }` alone (FerretDB pushes nothing else down; see repositories.ts). Check, count with an
   * atomic `$inc`, then re-check the counts the increment landed on: a call another process counted meanwhile can
   * only make this one refused (its count is taken back), never let two calls slip under the cap.
   */
  private async tryRecordNow(tenantId: string, phone: string, cap: FrequencyCap, atMs: number): Promise<CapDecision> {
    const _id = `${tenantId}/${phone}`;
    const before = await this.model.findOne({ _id }).lean<DialCountDoc>().exec();
    const days = pruneCounts(before?.days ?? {}, cap, atMs);
    const decision = checkCap(cap, days, atMs);
    if (!decision.allowed) return decision;
    const stale = Object.keys(before?.days ?? {}).filter((d) => !(d in days));
    const after = await this.model
      .findOneAndUpdate(
        { _id },
        {
          $inc: { [`days.${decision.day}`]: 1, version: 1 },
          $setOnInsert: { tenantId },
          ...(stale.length ? { $unset: Object.fromEntries(stale.map((d) => [`days.${d}`, 1])) } : {}),
        },
        { upsert: true, new: true },
      )
      .lean<DialCountDoc>()
      .exec();
    if (!after) throw new Error(`dial counts of ${_id} vanished`);
    const others = pruneCounts(after.days ?? {}, cap, atMs);
    others[decision.day] = (others[decision.day] ?? 1) - 1;
    const recheck = checkCap(cap, others, atMs);
    if (recheck.allowed) return decision;
    await this.model.updateOne({ _id }, { $inc: { [`days.${decision.day}`]: -1, version: 1 } }).exec();
    return recheck;
  }
}
