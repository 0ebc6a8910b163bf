/** DownloadRecording: a call's recording, read from Asterisk's stored recordings after a tenant check. */
import { GoneException, Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { Config } from '../../config/config';
import type { Repositories } from '../../activities/mongo/connection';
import type { CallRecording } from '../../activities/mongo/repositories';
import { StoredRecordings } from '../../activities/telephony/stored-recordings';
import { NotFound } from '../../src/errors';
import { CONFIG, REPOSITORIES } from '../common/tokens';

export interface RecordingFile {
  name: string;
  stream: Readable;
  length?: number;
}

@Injectable()
export class RecordingsService {
  private readonly store: StoredRecordings;

  constructor(
    @Inject(CONFIG) config: Config,
    @Inject(REPOSITORIES) private readonly repos: Repositories,
  ) {
    this.store = new StoredRecordings(config.ari);
  }

  /** The recording of the tenant's call `attemptId`; 404 for another tenant's call, 410 once retention deleted it. */
  async open(tenantId: string, attemptId: string): Promise<RecordingFile> {
    const call = (await this.repos.calls.get(tenantId, attemptId)) as { recording?: CallRecording } | null;
    if (!call) throw new NotFound(`call ${attemptId}`);
    const rec = call.recording;
    if (!rec) throw new NotFound(`recording of call ${attemptId}`);
    if (rec.deletedAt) {
      throw new GoneException(
        `the recording of call ${attemptId} was deleted on ${new Date(rec.deletedAt).toISOString()} (RECORDING_RETENTION_DAYS)`,
      );
    }
    const file = await this.store.open(rec.name);
    if (!file) throw new NotFound(`recording of call ${attemptId}`);
    return { name: `${rec.name}.${rec.format}`, stream: file.stream, ...(file.length ? { length: file.length } : {}) };
  }
}
