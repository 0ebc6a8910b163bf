/**
 * The tenant's settings (issue #4, #3): platform blocked hours, the holiday calendar, the AI-seat pool, the
 * frequency caps and the default time zone. Configuration (`config.tenantDefaults`: BLOCKED_HOURS, HOLIDAYS,
 * TENANT_AI_SEATS, FREQUENCY_CAP_PER_DAY/WEEK, DEFAULT_TIMEZONE) gives the defaults; a tenant's document overrides
 * the fields it sets, and a field set back to `null` follows the configuration again.
 *
 * - `tenant_settings` (`_id` = tenant id): one small document per tenant, holding only the fields the tenant set.
 *   Read by exact `_id` (the only lookup FerretDB pushes down); no secondary index.
 *
 * Reads are cached in process for `cacheMs` (default 5 s): the dial activity's frequency cap and task creation read
 * them often. A write in this process drops the cache entry at once; **another process sees a change within
 * `cacheMs`**. Whoever must not act on a stale pool (seat reservations) reads it fresh under the tenant's lock
 * ({@link TenantSettingsRepository.withPool}).
 *
 * Writes are serialised per tenant through withDocLock (FerretDB 1.24 loses concurrent updates to one document)
 * and compare-and-set on `version` across processes.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { Config } from '../../config/config';
import type { DayPeriod } from '../../src/calendar';
import type { FrequencyCap } from '../../src/frequency-cap';
import { withDocLock } from './doc-lock';
import type { TenantSeatsDoc } from './tenant-seats';

/** The configuration's tenant defaults (config.ts `tenantDefaults`). */
export type TenantDefaults = Config['tenantDefaults'];

export const TENANT_SETTING_FIELDS = ['blockedHours', 'holidays', 'aiSeats', 'frequencyCap', 'timezone'] as const;
export type TenantSettingField = (typeof TENANT_SETTING_FIELDS)[number];

/** A tenant's effective settings: its own values, the configuration's for the fields it has not set. */
export interface TenantSettings {
  tenantId: string;
  /** Platform blocked hours (HH:mm, may wrap midnight): no call starts inside them. */
  blockedHours: DayPeriod[];
  /** Local dates (yyyy-MM-dd), sorted, on which nobody is called. */
  holidays: string[];
  /** The tenant's AI-seat pool, shared by its running and paused tasks. */
  aiSeats: number;
  /** Calls to one number per local day / 7 local days across the tenant's tasks (0 = no cap). */
  frequencyCap: { perDay: number; perWeek: number };
  /** Default IANA zone of new tasks, and the zone whose days the frequency cap counts. */
  timezone: string;
  /** Fields that follow the configuration's defaults (the tenant has not set them). */
  inherited: TenantSettingField[];
  /** Last change of the tenant's own document; absent while everything is inherited. */
  updatedAt?: Date;
}

type Values = Pick<TenantSettings, TenantSettingField>;
/** A change: a value replaces the field, `null` returns it to the configured default, absent keeps it. */
export type TenantSettingsPatch = { [K in TenantSettingField]?: Values[K] | null };

export interface TenantSettingsDoc extends Partial<Values> {
  _id: string;
  version: number;
  updatedAt?: Date;
}

const schema = new Schema<TenantSettingsDoc>(
  {
    _id: { type: String, required: true },
    blockedHours: { type: [{ _id: false, start: String, end: String }], default: undefined },
    holidays: { type: [String], default: undefined },
    aiSeats: { type: Number },
    frequencyCap: { type: { _id: false, perDay: Number, perWeek: Number }, default: undefined },
    timezone: { type: String },
    version: { type: Number, required: true, default: 0 },
    updatedAt: { type: Date },
  },
  { collection: 'tenant_settings', versionKey: false },
);

export function registerTenantSettings(conn: Connection): Model<TenantSettingsDoc> {
  return conn.model<TenantSettingsDoc>('TenantSettings', schema);
}

/** The frequency cap the dial activity applies for a tenant (its caps, counted in its default zone's days). */
export function frequencyCapOf(settings: Pick<TenantSettings, 'frequencyCap' | 'timezone'>): FrequencyCap {
  return { perDay: settings.frequencyCap.perDay, perWeek: settings.frequencyCap.perWeek, timezone: settings.timezone };
}

/**
 * The holidays a campaign started at `nowMs` still needs: past dates are dropped (with a day's margin for the
 * zones ahead of UTC), so the calendar every contact workflow and dial activity carries stays small.
 */
export function upcomingHolidays(holidays: readonly string[], nowMs: number): string[] {
  const from = new Date(nowMs - 86_400_000).toISOString().slice(0, 10);
  return holidays.filter((d) => d >= from);
}

const MAX_TRIES = 20;
const DUPLICATE_KEY = 11000;

export interface TenantSettingsOptions {
  /** How long a read is reused in this process (ms); 0 = never. */
  cacheMs?: number;
  now?: () => number;
}

export class TenantSettingsRepository {
  private readonly cache = new Map<string, { at: number; value: TenantSettings }>();
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(
    private readonly model: Model<TenantSettingsDoc>,
    private readonly seats: Model<TenantSeatsDoc>,
    private readonly defaults: TenantDefaults,
    options: TenantSettingsOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** The tenant's effective settings (cached up to `cacheMs` unless `fresh`). */
  async get(tenantId: string, opts: { fresh?: boolean } = {}): Promise<TenantSettings> {
    const hit = this.cache.get(tenantId);
    if (!opts.fresh && hit && this.now() - hit.at < this.cacheMs) return hit.value;
    const doc = await this.model.findOne({ _id: tenantId }).lean<TenantSettingsDoc>().exec();
    const value = this.effective(tenantId, doc);
    this.cache.set(tenantId, { at: this.now(), value });
    return value;
  }

  /**
   * Apply a change under the tenant's lock. `patch` may be computed from the current settings; `guard` sees the
   * current and the resulting settings and throws to refuse the change (both run inside the lock, so a seat
   * reservation through {@link withPool} cannot slip between the check and the write).
   */
  async update(
    tenantId: string,
    patch: TenantSettingsPatch | ((current: TenantSettings) => TenantSettingsPatch),
    guard?: (next: TenantSettings, current: TenantSettings) => Promise<void> | void,
  ): Promise<TenantSettings> {
    return withDocLock(`tenant_settings/${tenantId}`, async () => {
      try {
        for (let i = 0; i < MAX_TRIES; i++) {
          const doc = await this.model.findOne({ _id: tenantId }).lean<TenantSettingsDoc>().exec();
          const current = this.effective(tenantId, doc);
          const change = typeof patch === 'function' ? patch(current) : patch;
          const set: Partial<Values> = {};
          const unset: TenantSettingField[] = [];
          for (const f of TENANT_SETTING_FIELDS) {
            const v = change[f];
            if (v === null) unset.push(f);
            else if (v !== undefined) Object.assign(set, { [f]: v });
          }
          const nextDoc: TenantSettingsDoc = { ...(doc ?? { _id: tenantId, version: 0 }), ...set };
          for (const f of unset) delete nextDoc[f];
          // One instant for what is stored and what is answered, so a read back equals the answer.
          const updatedAt = new Date(this.now());
          const next = this.effective(tenantId, { ...nextDoc, updatedAt });
          if (guard) await guard(next, current);
          if (await this.write(tenantId, doc, set, unset, updatedAt)) return next;
        }
        throw new Error(`could not update the settings of ${tenantId}: too much contention`);
      } finally {
        this.cache.delete(tenantId);
      }
    });
  }

  /**
   * Run `fn` with the tenant's pool read fresh, under the same lock as {@link update}: a reservation made here can
   * never exceed a pool that is being lowered at the same time (within this process; see doc-lock.ts).
   */
  async withPool<T>(tenantId: string, fn: (pool: number) => Promise<T>): Promise<T> {
    return withDocLock(`tenant_settings/${tenantId}`, async () =>
      fn((await this.get(tenantId, { fresh: true })).aiSeats),
    );
  }

  /** AI seats held now in the tenant's pool, by task id (running and paused tasks; `tenant_seats`, one `_id` read). */
  async heldSeats(tenantId: string): Promise<Record<string, number>> {
    const doc = await this.seats.findOne({ _id: tenantId }).lean<TenantSeatsDoc>().exec();
    return Object.fromEntries(Object.entries(doc?.reserved ?? {}).filter(([, n]) => n > 0));
  }

  private async write(
    tenantId: string,
    doc: TenantSettingsDoc | null,
    set: Partial<Values>,
    unset: TenantSettingField[],
    updatedAt: Date,
  ): Promise<boolean> {
    if (!doc) {
      try {
        await this.model.create({ _id: tenantId, ...set, version: 1, updatedAt });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === DUPLICATE_KEY) return false; // another process created it: retry
        throw err;
      }
    }
    const res = await this.model
      .updateOne(
        { _id: tenantId, version: doc.version },
        {
          $set: { ...set, updatedAt },
          $inc: { version: 1 },
          ...(unset.length ? { $unset: Object.fromEntries(unset.map((f) => [f, ''])) } : {}),
        },
      )
      .exec();
    return res.matchedCount === 1;
  }

  private effective(tenantId: string, doc: Partial<TenantSettingsDoc> | null): TenantSettings {
    const d = this.defaults;
    const own = (f: TenantSettingField) => doc?.[f] !== undefined && doc?.[f] !== null;
    return {
      tenantId,
      blockedHours: (doc?.blockedHours ?? d.blockedHours).map((b) => ({ start: b.start, end: b.end })),
      holidays: [...(doc?.holidays ?? d.holidays)].sort(),
      aiSeats: doc?.aiSeats ?? d.aiSeats,
      frequencyCap: {
        perDay: doc?.frequencyCap?.perDay ?? d.frequencyCap.perDay,
        perWeek: doc?.frequencyCap?.perWeek ?? d.frequencyCap.perWeek,
      },
      timezone: doc?.timezone ?? d.timezone,
      inherited: TENANT_SETTING_FIELDS.filter((f) => !own(f)),
      ...(doc?.updatedAt ? { updatedAt: new Date(doc.updatedAt) } : {}),
    };
  }
}
