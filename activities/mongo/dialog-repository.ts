/**
 * Dialog records (对话记录): one document per answered attempt with a script, `_id` = the attempt id, written once
 * when the call ends and never updated. Writing is an insert (cheap at any collection size); reading is an
 * auditor's exact-`_id` lookup (ListDialog), never on the campaign's hot path.
 *
 * Each turn is what the dialog engine recorded in the call's workflow (src/script/engine DialogTurn): the node, what
 * the callee said or pressed, the branch or knowledge entry and intent it matched, what the robot said, where the
 * dialog went next, and the tags it added. Times are UTC instants.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { DialogTurn } from '../../src/script/engine';
import type { DialogEnd, ScriptRef } from '../../workflows/definitions';

export interface DialogDoc {
  _id: string;
  tenantId: string;
  taskId: string;
  contactIndex: number;
  attempt: number;
  script: ScriptRef;
  turns: DialogTurn[];
  tags: string[];
  end: DialogEnd;
  createdAt: Date;
}

const schema = new Schema<DialogDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    taskId: { type: String, required: true },
    contactIndex: { type: Number, required: true },
    attempt: { type: Number, required: true },
    script: { type: Schema.Types.Mixed, required: true },
    turns: { type: Schema.Types.Mixed, default: [] },
    tags: { type: [String], default: [] },
    end: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'dialogs', versionKey: false, minimize: false },
);
// CheckScriptRegression: the recorded dialogs of one script version, newest first (a bounded review-time scan).
schema.index({ tenantId: 1, 'script.scriptId': 1, 'script.version': 1, createdAt: -1 });

export function registerDialogs(conn: Connection): Model<DialogDoc> {
  return conn.model<DialogDoc>('Dialog', schema);
}

export class DialogRepository {
  constructor(private readonly model: Model<DialogDoc>) {}

  /** Store a call's dialog. Idempotent: a retried activity finds the record there and leaves it. */
  async save(doc: Omit<DialogDoc, 'createdAt'>): Promise<void> {
    try {
      await this.model.create({ ...doc, createdAt: new Date() });
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
  }

  /** One attempt's dialog, if it belongs to the tenant. */
  async get(tenantId: string, attemptId: string): Promise<DialogDoc | undefined> {
    const doc = await this.model.findOne({ _id: attemptId }).lean<DialogDoc>().exec();
    return doc && doc.tenantId === tenantId ? doc : undefined;
  }

  /**
   * The newest `limit` dialogs recorded with one script version (the regression check's real conversations). Not on
   * any call path: a reviewer's read, bounded by `limit`, served by the `script.*` index.
   */
  async listByScriptVersion(tenantId: string, scriptId: string, version: number, limit: number): Promise<DialogDoc[]> {
    return this.model
      .find({ tenantId, 'script.scriptId': scriptId, 'script.version': version })
      .sort({ createdAt: -1, _id: 1 })
      .limit(limit)
      .lean<DialogDoc[]>()
      .exec();
  }
}
