/**
 * The tenant's AI-seat pool (seed §2.1: "当前可用AI坐席数" = the pool minus the seats held by the tenant's other
 * running tasks). A running or paused task holds its AI seats from StartTask until it completes or is cancelled, so
 * the sum over a tenant's tasks never exceeds the pool; a task cannot ask for more than is available.
 *
 * One small document per tenant (`_id` = tenant id), changed by optimistic concurrency on `version`: no
 * transactions, the same on FerretDB and MongoDB.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import { withDocLock } from './doc-lock';

export interface TenantSeatsDoc {
  _id: string;
  /** Seats held, by task id. */
  reserved: Record<string, number>;
  version: number;
}

const schema = new Schema<TenantSeatsDoc>(
  {
    _id: { type: String, required: true },
    reserved: { type: Schema.Types.Mixed, default: {} },
    version: { type: Number, required: true, default: 0 },
  },
  { collection: 'tenant_seats', versionKey: false, minimize: false },
);

export function registerTenantSeats(conn: Connection): Model<TenantSeatsDoc> {
  return conn.model<TenantSeatsDoc>('TenantSeats', schema);
}

export type Reservation = { ok: true; available: number } | { ok: false; available: number };

const MAX_TRIES = 20;

export class TenantSeatRepository {
  constructor(private readonly model: Model<TenantSeatsDoc>) {}

  private async load(tenantId: string): Promise<TenantSeatsDoc> {
    await this.model
      .updateOne({ _id: tenantId }, { $setOnInsert: { reserved: {}, version: 0 } }, { upsert: true })
      .exec();
    const doc = await this.model.findOne({ _id: tenantId }).lean<TenantSeatsDoc>().exec();
    if (!doc) throw new Error(`tenant seats of ${tenantId} vanished`);
    return doc;
  }

  /** Seats of the pool not held by other tasks than `exceptTaskId`. */
  async available(tenantId: string, pool: number, exceptTaskId?: string): Promise<number> {
    const doc = await this.load(tenantId);
    return pool - held(doc, exceptTaskId);
  }

  /** Hold `seats` for the task (replacing what it held), if the pool allows. */
  async reserve(tenantId: string, taskId: string, seats: number, pool: number): Promise<Reservation> {
    return withDocLock(`tenant_seats/${tenantId}`, () => this.reserveNow(tenantId, taskId, seats, pool));
  }

  private async reserveNow(tenantId: string, taskId: string, seats: number, pool: number): Promise<Reservation> {
    for (let i = 0; i < MAX_TRIES; i++) {
      const doc = await this.load(tenantId);
      const available = pool - held(doc, taskId);
      if (seats > available) return { ok: false, available };
      const res = await this.model
        .updateOne(
          { _id: tenantId, version: doc.version },
          { $set: { [`reserved.${taskId}`]: seats }, $inc: { version: 1 } },
        )
        .exec();
      if (res.matchedCount === 1) return { ok: true, available: available - seats };
    }
    throw new Error(`could not reserve seats for ${tenantId}/${taskId}: too much contention`);
  }

  async release(tenantId: string, taskId: string): Promise<void> {
    await withDocLock(`tenant_seats/${tenantId}`, () =>
      this.model.updateOne({ _id: tenantId }, { $unset: { [`reserved.${taskId}`]: '' }, $inc: { version: 1 } }).exec(),
    );
  }

  async heldBy(tenantId: string, taskId: string): Promise<number> {
    const doc = await this.model.findOne({ _id: tenantId }).lean<TenantSeatsDoc>().exec();
    return doc?.reserved[taskId] ?? 0;
  }
}

function held(doc: TenantSeatsDoc, exceptTaskId?: string): number {
  return Object.entries(doc.reserved ?? {})
    .filter(([taskId]) => taskId !== exceptTaskId)
    .reduce((sum, [, n]) => sum + n, 0);
}
