/**
 * Calls per number per local day, for the tenant's frequency cap (src/frequency-cap.ts). One small document per
 * number (`_id` = `<tenantId>/<e164>`), read and written by exact `_id` (an atomic `$inc`, then a re-check), so two
 * tasks dialling the same number at once cannot both slip under the cap.
 */
import { DateTime } from 'luxon';
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
   * Filters are `{ _id }` alone (FerretDB pushes nothing else down; see repositories.ts). **Count first, then
   * decide**: one atomic `$inc` of today's count returns the number's counts with this call in them; the call is
   * allowed if the cap allows it with the *other* calls counted there (every call another process counted before
   * this increment is among them). Refused: the increment is taken back. A concurrent call can only make this one
   * refused, never let two slip under the cap. One round trip for an allowed call (there used to be a read first);
   * days that fell out of the weekly window are removed by a second write, at most once per number and day.
   */
  private async tryRecordNow(tenantId: string, phone: string, cap: FrequencyCap, atMs: number): Promise<CapDecision> {
    const _id = `${tenantId}/${phone}`;
    const day = DateTime.fromMillis(atMs, { zone: cap.timezone }).startOf('day').toISODate()!;
    const after = await this.model
      .findOneAndUpdate(
        { _id },
        { $inc: { [`days.${day}`]: 1, version: 1 }, $setOnInsert: { tenantId } },
        { upsert: true, new: true },
      )
      .lean<DialCountDoc>()
      .exec();
    if (!after) throw new Error(`dial counts of ${_id} vanished`);
    const others = pruneCounts(after.days ?? {}, cap, atMs);
    others[day] = (others[day] ?? 1) - 1;
    const decision = checkCap(cap, others, atMs);
    const stale = Object.keys(after.days ?? {}).filter((d) => !(d in others));
    if (decision.allowed) {
      if (stale.length)
        await this.model.updateOne({ _id }, { $unset: Object.fromEntries(stale.map((d) => [`days.${d}`, 1])) }).exec();
      return decision;
    }
    await this.model.updateOne({ _id }, { $inc: { [`days.${day}`]: -1, version: 1 } }).exec();
    return decision;
  }
}
