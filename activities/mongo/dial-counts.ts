/**
 * Calls per number per local day, for the tenant's frequency cap (src/frequency-cap.ts). One small document per
 * number (`_id` = `<tenantId>/<e164>`), read and written by exact `_id` with optimistic concurrency on `version`,
 * so two tasks dialling the same number at once cannot both slip under the cap.
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

const MAX_TRIES = 20;

export class DialCountRepository {
  constructor(private readonly model: Model<DialCountDoc>) {}

  /** If the cap allows a call at `atMs`, count it and say so; otherwise say from when it will. */
  async tryRecord(tenantId: string, phone: string, cap: FrequencyCap, atMs: number): Promise<CapDecision> {
    return withDocLock(`dial_counts/${tenantId}/${phone}`, () => this.tryRecordNow(tenantId, phone, cap, atMs));
  }

  private async tryRecordNow(tenantId: string, phone: string, cap: FrequencyCap, atMs: number): Promise<CapDecision> {
    const _id = `${tenantId}/${phone}`;
    for (let i = 0; i < MAX_TRIES; i++) {
      await this.model
        .updateOne({ _id }, { $setOnInsert: { tenantId, days: {}, version: 0 } }, { upsert: true })
        .exec();
      const doc = await this.model.findOne({ _id, tenantId }).lean<DialCountDoc>().exec();
      if (!doc) throw new Error(`dial counts of ${_id} vanished`);
      const days = pruneCounts(doc.days ?? {}, cap, atMs);
      const decision = checkCap(cap, days, atMs);
      if (!decision.allowed) return decision;
      days[decision.day] = (days[decision.day] ?? 0) + 1;
      const res = await this.model
        .updateOne({ _id, version: doc.version }, { $set: { days }, $inc: { version: 1 } })
        .exec();
      if (res.matchedCount === 1) return decision;
    }
    throw new Error(`could not count a call to ${_id}: too much contention`);
  }
}
