/**
 * 话术配音 (seed-spec §1.11): the dubbing list, speech synthesis per utterance (espeak-ng with voice type, speed and
 * volume) and uploaded recordings (wav/mp3, converted by sox for Asterisk). The rules (statuses, what is required
 * before submission) are in ./dubbing-rules.ts.
 *
 * Dubbing changes the draft: when the latest version is not a draft, dubbing makes a new draft as an edit does.
 * Synthesis runs inside the request, under the script's write queue: the rows are first stored as `synthesising`
 * (what a concurrent reader sees), then as `recorded` with their file, or back to `notRecorded` when synthesis fails.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Repositories } from '../../activities/mongo/connection';
import { withDocLock } from '../../activities/mongo/doc-lock';
import type { ScriptVersionDoc, UtteranceDubbing, VoiceSettings } from '../../activities/mongo/script-repository';
import { RecordingRejected, TTS_DEFAULTS, type RecordingImporter, type Tts } from '../../activities/speech/espeak-tts';
import type { Logger } from '../../activities/logger';
import { DomainError, ValidationFailed } from '../../src/errors';
import { LOGGER, REPOSITORIES } from '../common/tokens';
import { effectiveStatus, utteranceSites } from './dubbing-rules';
import type { SynthesizeDubbingDto } from './script.dto';
import { ScriptsService } from './scripts.service';

export const SCRIPT_TTS = Symbol('SCRIPT_TTS');
export const RECORDING_IMPORTER = Symbol('RECORDING_IMPORTER');

/** Uploaded recordings: the seed gives no limit. DERIVED: 20 MB (several minutes of mp3, a minute of CD wav). */
export const RECORDING_MAX_BYTES = 20 * 1024 * 1024;
/** Synthesis processes at once (the machines have 2 cores). */
const TTS_PARALLEL = 2;

export interface DubbingRow {
  utteranceId: string;
  kind: string;
  source: string;
  text: string;
  status: UtteranceDubbing['status'];
  required: boolean;
  playback: UtteranceDubbing['source'];
  media?: string;
  seconds?: number;
  voice?: VoiceSettings;
  path: string;
  field: string;
}

export interface DubbingList {
  scriptId: string;
  version: number;
  counts: { required: number; recorded: number; notRecorded: number; notNeeded: number; synthesising: number };
  rows: DubbingRow[];
  failed?: { utteranceId: string; reason: string }[];
}

@Injectable()
export class DubbingService {
  private readonly repo: Repositories['scripts'];

  constructor(
    @Inject(REPOSITORIES) repos: Repositories,
    @Inject(SCRIPT_TTS) private readonly tts: Tts,
    @Inject(RECORDING_IMPORTER) private readonly recordings: RecordingImporter,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly scripts: ScriptsService,
  ) {
    this.repo = repos.scripts;
  }

  /** ListScriptDubbing: the rows of a version (default: the draft, else the latest). */
  async list(tenantId: string, scriptId: string, version?: number): Promise<DubbingList> {
    const doc =
      version === undefined
        ? (await this.scripts.current(tenantId, scriptId)).doc
        : await this.scripts.version(tenantId, scriptId, version);
    return rowsOf(doc);
  }

  /** SynthesizeScriptDubbing: TTS for the named utterances, or every unvoiced one without variables. */
  async synthesize(tenantId: string, scriptId: string, dto: SynthesizeDubbingDto): Promise<DubbingList> {
    const voice: VoiceSettings = {
      voiceType: dto.voiceType ?? TTS_DEFAULTS.voiceType,
      speed: dto.speed ?? TTS_DEFAULTS.speed,
      volume: dto.volume ?? TTS_DEFAULTS.volume,
    };
    return withDocLock(`scripts/${scriptId}`, async () => {
      const { doc: current } = await this.scripts.current(tenantId, scriptId);
      const sites = utteranceSites(current.script);
      const byId = new Map(sites.map((s) => [s.utteranceId, s]));
      const now = new Date();
      let targets: string[];
      if (dto.utteranceIds) {
        const problems = dto.utteranceIds.flatMap((id, i) => {
          const site = byId.get(id);
          if (!site) return [{ field: `utteranceIds[${i}]`, value: id, reason: 'no such utterance in the script' }];
          if (site.hasVariables) {
            return [
              {
                field: `utteranceIds[${i}]`,
                value: id,
                reason: 'has ${variables}: synthesised at call time (无需录音)',
              },
            ];
          }
          return [];
        });
        if (problems.length) throw new ValidationFailed('some utterances cannot be synthesised', problems);
        targets = [...new Set(dto.utteranceIds)];
      } else {
        targets = sites
          .filter((s) => !s.hasVariables && effectiveStatus(current.dubbing[s.utteranceId], now) === 'notRecorded')
          .map((s) => s.utteranceId);
      }
      const texts = new Map(targets.map((id) => [id, byId.get(id)!.text]));
      // Nothing to do: no write, so no new draft either.
      if (targets.length === 0) return rowsOf(current);
      // 1. Mark the rows 合成中 (making the draft if needed).
      let doc = await this.scripts.writeDraft(
        tenantId,
        scriptId,
        (s) => s,
        (dubbing) => {
          for (const id of targets) {
            dubbing[id] = { status: 'synthesising', source: 'tts', voice, text: texts.get(id)!, updatedAt: now };
          }
          return dubbing;
        },
      );
      // 2. Synthesise.
      const results = new Map<string, { media: string; seconds?: number } | { error: string }>();
      const queue = [...targets];
      const worker = async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          try {
            results.set(id, { media: await this.tts.synthesize(texts.get(id)!, voice) });
          } catch (err) {
            this.logger.warn({ err, scriptId, utteranceId: id }, 'speech synthesis failed');
            results.set(id, { error: err instanceof Error ? err.message.split('\n')[0]! : String(err) });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(TTS_PARALLEL, targets.length) }, worker));
      // 3. Store the files (or put failed rows back to 未录音).
      const done = new Date();
      const failed: { utteranceId: string; reason: string }[] = [];
      const dubbing = { ...doc.dubbing };
      for (const [id, r] of results) {
        const text = texts.get(id)!;
        if ('error' in r) {
          failed.push({ utteranceId: id, reason: r.error });
          dubbing[id] = { status: 'notRecorded', source: 'tts', text, updatedAt: done };
        } else {
          dubbing[id] = { status: 'recorded', source: 'tts', media: r.media, voice, text, updatedAt: done };
        }
      }
      doc = { ...doc, dubbing, updatedAt: done };
      await this.repo.putVersion(doc);
      return { ...rowsOf(doc), ...(failed.length ? { failed } : {}) };
    });
  }

  /** UploadScriptRecording: a wav or mp3 for one utterance without variables. */
  async upload(tenantId: string, scriptId: string, utteranceId: string, file: Buffer | undefined): Promise<DubbingRow> {
    if (!file?.length) {
      throw new ValidationFailed('a recording is required', [
        { field: 'file', reason: 'one wav or mp3 file, in the form field "file"' },
      ]);
    }
    return withDocLock(`scripts/${scriptId}`, async () => {
      const { doc: current } = await this.scripts.current(tenantId, scriptId);
      const site = utteranceSites(current.script).find((s) => s.utteranceId === utteranceId);
      if (!site) throw new DomainError(`no utterance ${utteranceId} in the script`, 404);
      if (site.hasVariables) {
        throw new ValidationFailed('this utterance has variables', [
          {
            field: 'utteranceId',
            value: utteranceId,
            reason: 'an utterance with ${variables} is synthesised per contact at call time (无需录音)',
          },
        ]);
      }
      let imported: Awaited<ReturnType<RecordingImporter['importRecording']>>;
      try {
        imported = await this.recordings.importRecording(file);
      } catch (err) {
        if (err instanceof RecordingRejected) {
          throw new ValidationFailed('the recording was refused', [{ field: 'file', reason: err.message }]);
        }
        throw err;
      }
      const now = new Date();
      const doc = await this.scripts.writeDraft(
        tenantId,
        scriptId,
        (s) => s,
        (dubbing) => ({
          ...dubbing,
          [utteranceId]: {
            status: 'recorded',
            source: 'upload',
            media: imported.media,
            seconds: imported.seconds,
            text: site.text,
            updatedAt: now,
          },
        }),
      );
      return rowsOf(doc).rows.find((r) => r.utteranceId === utteranceId)!;
    });
  }
}

function rowsOf(doc: ScriptVersionDoc): DubbingList {
  const now = new Date();
  const counts = { required: 0, recorded: 0, notRecorded: 0, notNeeded: 0, synthesising: 0 };
  const rows = utteranceSites(doc.script).map((s): DubbingRow => {
    const d = doc.dubbing[s.utteranceId];
    const status = s.hasVariables ? 'notNeeded' : effectiveStatus(d, now);
    const required = s.playable && !s.hasVariables;
    counts[status] += 1;
    if (required) counts.required += 1;
    return {
      utteranceId: s.utteranceId,
      kind: s.kind,
      source: s.source,
      text: s.text,
      status,
      required,
      playback: d?.source ?? 'tts',
      ...(status === 'recorded' && d?.media ? { media: d.media } : {}),
      ...(status === 'recorded' && d?.seconds !== undefined ? { seconds: d.seconds } : {}),
      ...(d?.voice ? { voice: d.voice } : {}),
      path: s.path,
      field: s.field,
    };
  });
  return { scriptId: doc.scriptId, version: doc.version, counts, rows };
}
