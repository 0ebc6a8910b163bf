/**
 * Robot scripts (话术, seed-spec §1), their versions and text-console sessions. Three small collections, every
 * document carrying its tenant; the call path reads one version by exact `_id`:
 *
 * - `scripts`          one head document per script (`_id` = script id): the basic information (§1.2), the number
 *                      of the editable draft, the latest version and the latest approved version.
 * - `script_versions`  one document per version, `_id` = `${scriptId}@${version}`: the whole script JSON
 *                      (src/script/model.ts), its review status and its dubbing. Versions other than the draft are
 *                      never changed except by review (submitted → approved / rejected), so a task that pinned an
 *                      approved version keeps playing exactly what was approved.
 * - `console_sessions` one document per text-console conversation (`_id` = session id): the version it runs, the
 *                      variables and the inputs so far (the conversation is replayed from them, so the API keeps no
 *                      state in memory).
 *
 * Dubbing is keyed by utterance id. Utterance ids contain dots (`preset.kb.driving.1`), which MongoDB field names
 * must not (FerretDB refuses them), so it is stored as an array and exposed as a record.
 *
 * Writers serialise per script with withDocLock (FerretDB 1.24 loses concurrent updates of one document); the
 * service does that, this class only reads and writes.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { Script } from '../../src/script/model';
import type { ValidationReport } from '../../src/script/validate';
import type { TtsSpeed, TtsVoiceType } from '../speech/espeak-tts';

export type ScriptVersionStatus = 'draft' | 'submitted' | 'approved' | 'rejected';

/** 已录音 / 未录音 / 无需录音 / 合成中 (DECISION C8). */
export type DubbingStatus = 'recorded' | 'notRecorded' | 'notNeeded' | 'synthesising';

/** 语音合成设置 of a TTS-dubbed utterance. */
export interface VoiceSettings {
  voiceType: TtsVoiceType;
  speed: TtsSpeed;
  volume: number;
}

/** The voice of one utterance (one row of the seed's dubbing list). */
export interface UtteranceDubbing {
  status: DubbingStatus;
  /** ARI media URI (`sound:custom/waihu/tts-…`) once recorded. */
  media?: string;
  /** 放音类型: TTS (synthesised here, or at call time for utterances with variables) or an uploaded recording. */
  source: 'tts' | 'upload';
  voice?: VoiceSettings;
  /** The utterance text the audio was made from; a changed text makes the audio stale (not recorded). */
  text: string;
  /** Length of the audio, when recorded. */
  seconds?: number;
  updatedAt: Date;
}

export interface ScriptHeadDoc {
  _id: string;
  tenantId: string;
  name: string;
  industry: string;
  scene: string;
  sceneClass: NonNullable<Script['sceneClass']>;
  remarks?: string;
  /** The editable version, if there is one. */
  draftVersion?: number;
  /** The highest version number. */
  latestVersion: number;
  /** The status of the latest version (for the script list). */
  latestStatus: ScriptVersionStatus;
  latestApproved?: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ScriptVersionDoc {
  /** `${scriptId}@${version}` ({@link scriptVersionId}). */
  _id: string;
  tenantId: string;
  scriptId: string;
  version: number;
  status: ScriptVersionStatus;
  rejectReason?: string;
  /** The version this one was edited from. */
  basedOn?: number;
  script: Script;
  /** Per utterance id: every utterance of `script` has an entry. */
  dubbing: Record<string, UtteranceDubbing>;
  /** The validation report of the last save (warnings included). */
  report?: ValidationReport;
  submittedAt?: Date;
  reviewedAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** A version's review fields, without the script and its dubbing (the version list). */
export type ScriptVersionSummary = Omit<ScriptVersionDoc, 'script' | 'dubbing' | 'report'>;

export type ConsoleStoredInput =
  { text: string } | { key: string } | { silence: true } | { bargeIn: string } | { hangup: true } | { waitMs: number };

export interface ConsoleSessionDoc {
  _id: string;
  tenantId: string;
  scriptId: string;
  version: number;
  variables: Record<string, string>;
  inputs: ConsoleStoredInput[];
  ended: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export function scriptVersionId(scriptId: string, version: number): string {
  return `${scriptId}@${version}`;
}

/** What the call side plays for an utterance without variables: its recording or TTS file, if it has one. */
export function utteranceMedia(doc: ScriptVersionDoc, utteranceId: string): string | undefined {
  const d = doc.dubbing[utteranceId];
  if (!d || d.status !== 'recorded' || !d.media || /\$\{[^}]*\}/.test(d.text)) return undefined;
  return d.media;
}

// --- Storage shapes -------------------------------------------------------------------------------------------

type StoredDubbing = UtteranceDubbing & { utteranceId: string };
type StoredVersion = Omit<ScriptVersionDoc, 'dubbing'> & { dubbing: StoredDubbing[] };

const headSchema = new Schema<ScriptHeadDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    name: { type: String, required: true },
    industry: { type: String, required: true },
    scene: { type: String, required: true },
    sceneClass: { type: String, required: true },
    remarks: { type: String },
    draftVersion: { type: Number },
    latestVersion: { type: Number, required: true },
    latestStatus: { type: String, required: true },
    latestApproved: { type: Number },
  },
  { collection: 'scripts', versionKey: false, timestamps: true },
);
// ListScript: a tenant's scripts, most recently changed first.
headSchema.index({ tenantId: 1, updatedAt: -1 });

const versionSchema = new Schema<StoredVersion>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    scriptId: { type: String, required: true },
    version: { type: Number, required: true },
    status: { type: String, required: true },
    rejectReason: { type: String },
    basedOn: { type: Number },
    script: { type: Schema.Types.Mixed, required: true },
    dubbing: { type: Schema.Types.Mixed, default: [] },
    report: { type: Schema.Types.Mixed },
    submittedAt: { type: Date },
    reviewedAt: { type: Date },
  },
  { collection: 'script_versions', versionKey: false, timestamps: true, minimize: false },
);
// ListScriptVersions: one script's versions, newest first.
versionSchema.index({ tenantId: 1, scriptId: 1, version: -1 });

const sessionSchema = new Schema<ConsoleSessionDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    scriptId: { type: String, required: true },
    version: { type: Number, required: true },
    variables: { type: Schema.Types.Mixed, default: {} },
    inputs: { type: Schema.Types.Mixed, default: [] },
    ended: { type: Boolean, default: false },
  },
  // Read and written by exact _id only: no secondary index. (Old sessions are not expired: FerretDB has no TTL
  // indexes; they are small, one per test conversation.)
  { collection: 'console_sessions', versionKey: false, timestamps: true, minimize: false },
);

export interface ScriptModels {
  heads: Model<ScriptHeadDoc>;
  versions: Model<StoredVersion>;
  sessions: Model<ConsoleSessionDoc>;
}

export function registerScriptModels(conn: Connection): ScriptModels {
  return {
    heads: conn.model<ScriptHeadDoc>('ScriptHead', headSchema),
    versions: conn.model<StoredVersion>('ScriptVersion', versionSchema),
    sessions: conn.model<ConsoleSessionDoc>('ConsoleSession', sessionSchema),
  };
}

const toStored = (doc: ScriptVersionDoc): StoredVersion => ({
  ...doc,
  dubbing: Object.entries(doc.dubbing).map(([utteranceId, d]) => ({ utteranceId, ...d })),
});

function fromStored(doc: StoredVersion): ScriptVersionDoc {
  const dubbing: Record<string, UtteranceDubbing> = {};
  for (const { utteranceId, ...d } of doc.dubbing ?? []) dubbing[utteranceId] = d;
  return { ...doc, dubbing };
}

export interface ScriptListFilter {
  industry?: string;
  scene?: string;
  /** Substring of the name (请输入话术名称进行查询). */
  name?: string;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class ScriptRepository {
  constructor(private readonly m: ScriptModels) {}

  /** Create the indexes (startup). */
  async init(): Promise<void> {
    await Promise.all([this.m.heads.init(), this.m.versions.init(), this.m.sessions.init()]);
  }

  // --- Heads ---

  async getHead(tenantId: string, scriptId: string): Promise<ScriptHeadDoc | undefined> {
    const doc = await this.m.heads.findOne({ _id: scriptId, tenantId }).lean<ScriptHeadDoc>().exec();
    return doc ?? undefined;
  }

  /** Insert a new script's head; its first version must already be stored (the head is the commit point). */
  async insertHead(head: Omit<ScriptHeadDoc, 'createdAt' | 'updatedAt'>): Promise<void> {
    await this.m.heads.create(head);
  }

  async updateHead(
    tenantId: string,
    scriptId: string,
    set: Partial<Omit<ScriptHeadDoc, '_id' | 'tenantId' | 'createdAt' | 'updatedAt'>>,
    unset: (keyof ScriptHeadDoc)[] = [],
  ): Promise<void> {
    const update: Record<string, unknown> = { $set: set };
    if (unset.length) update.$unset = Object.fromEntries(unset.map((k) => [k, 1]));
    await this.m.heads.updateOne({ _id: scriptId, tenantId }, update).exec();
  }

  /** The tenant's scripts, most recently changed first (a scan of a small collection; not on the call path). */
  async listHeads(
    tenantId: string,
    filter: ScriptListFilter,
    page: number,
    pageSize: number,
  ): Promise<{ total: number; items: ScriptHeadDoc[] }> {
    const q: Record<string, unknown> = { tenantId };
    if (filter.industry) q.industry = filter.industry;
    if (filter.scene) q.scene = filter.scene;
    if (filter.name) q.name = { $regex: escapeRegex(filter.name) };
    const [total, items] = await Promise.all([
      this.m.heads.countDocuments(q).exec(),
      this.m.heads
        .find(q)
        .sort({ updatedAt: -1, _id: 1 })
        .skip((page - 1) * pageSize)
        .limit(pageSize)
        .lean<ScriptHeadDoc[]>()
        .exec(),
    ]);
    return { total, items };
  }

  // --- Versions ---

  /** One version by exact `_id`; undefined when it does not exist or belongs to another tenant. */
  async getVersion(tenantId: string, scriptId: string, version: number): Promise<ScriptVersionDoc | undefined> {
    const doc = await this.m.versions
      .findOne({ _id: scriptVersionId(scriptId, version) })
      .lean<StoredVersion>()
      .exec();
    return doc && doc.tenantId === tenantId ? fromStored(doc) : undefined;
  }

  /** The version a task pins by default: the latest approved one (head read, then one version read). */
  async latestApproved(tenantId: string, scriptId: string): Promise<ScriptVersionDoc | undefined> {
    const head = await this.getHead(tenantId, scriptId);
    if (head?.latestApproved === undefined) return undefined;
    return this.getVersion(tenantId, scriptId, head.latestApproved);
  }

  /**
   * Write a whole version (insert or replace by `_id`). Used for a new draft — a leftover of a crashed write with the
   * same number was never referenced by the head, so replacing it is safe — and for every change of the draft.
   */
  async putVersion(doc: Omit<ScriptVersionDoc, 'createdAt' | 'updatedAt'> & { createdAt?: Date }): Promise<void> {
    const now = new Date();
    const stored = toStored({ ...doc, createdAt: doc.createdAt ?? now, updatedAt: now });
    await this.m.versions
      .replaceOne({ _id: doc._id, tenantId: doc.tenantId }, stored, { upsert: true, timestamps: false })
      .exec();
  }

  /** Change a version's review fields, only if it still has status `from` (a review of a stale state is refused). */
  async setStatus(
    tenantId: string,
    scriptId: string,
    version: number,
    from: ScriptVersionStatus,
    set: Partial<Pick<ScriptVersionDoc, 'status' | 'rejectReason' | 'submittedAt' | 'reviewedAt'>>,
  ): Promise<boolean> {
    const res = await this.m.versions
      .updateOne({ _id: scriptVersionId(scriptId, version), tenantId, status: from }, { $set: set })
      .exec();
    return res.matchedCount === 1;
  }

  /** A script's versions, newest first, without their content. */
  async listVersions(tenantId: string, scriptId: string): Promise<ScriptVersionSummary[]> {
    return this.m.versions
      .find({ tenantId, scriptId }, { script: 0, dubbing: 0, report: 0 })
      .sort({ version: -1 })
      .lean<ScriptVersionSummary[]>()
      .exec();
  }

  // --- Console sessions ---

  async insertSession(doc: Omit<ConsoleSessionDoc, 'createdAt' | 'updatedAt'>): Promise<void> {
    await this.m.sessions.create(doc);
  }

  async getSession(tenantId: string, sessionId: string): Promise<ConsoleSessionDoc | undefined> {
    const doc = await this.m.sessions.findOne({ _id: sessionId }).lean<ConsoleSessionDoc>().exec();
    return doc && doc.tenantId === tenantId ? doc : undefined;
  }

  async saveSessionInputs(
    tenantId: string,
    sessionId: string,
    inputs: ConsoleStoredInput[],
    ended: boolean,
  ): Promise<void> {
    await this.m.sessions.updateOne({ _id: sessionId, tenantId }, { $set: { inputs, ended } }).exec();
  }
}

export async function openScriptRepository(conn: Connection): Promise<ScriptRepository> {
  const repo = new ScriptRepository(registerScriptModels(conn));
  await repo.init();
  return repo;
}
