/**
 * Text-to-speech with espeak-ng (Mandarin voice `cmn`), converted by sox to the 8 kHz mono 16-bit WAV Asterisk
 * plays. Prompts are cached by a hash of voice, settings and text, so each distinct sentence is synthesised once.
 * Uploaded recordings (话术配音, wav or mp3) go through the same sox conversion ({@link createRecordingImporter}).
 *
 * With `chroot` set (the embedded Asterisk runs in a Debian sid root), espeak-ng and sox run inside that root —
 * Debian sid's espeak-ng 1.52 reads Mandarin correctly, older ones read pinyin letters, and its sox (sox_ng, linked
 * against libmad and LAME) reads mp3 — and the file lands in the root's sounds directory. Without it, both commands
 * run on the host and write to `soundsDir` directly (the docker-compose layout, where the sounds directory is a
 * volume shared with Asterisk; there the host's sox needs mp3 support, Debian's `libsox-fmt-mp3`).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ASTERISK_SOUNDS = '/usr/share/asterisk/sounds/';

export interface TtsConfig {
  chroot: string;
  /** Directory as Asterisk sees it. */
  soundsDir: string;
  voice: string;
}

/** 声音类型 (seed-spec §1.11): 女声 / 男声. */
export type TtsVoiceType = 'female' | 'male';
/** 语速控制: 很慢 / 慢 / 正常 / 快 / 很快 (default 正常, DECISION N10). */
export type TtsSpeed = 'verySlow' | 'slow' | 'normal' | 'fast' | 'veryFast';
export const TTS_SPEEDS: readonly TtsSpeed[] = ['verySlow', 'slow', 'normal', 'fast', 'veryFast'];
export const TTS_VOICE_TYPES: readonly TtsVoiceType[] = ['female', 'male'];

/** 语音合成设置. Every field optional; {@link TTS_DEFAULTS} fills the rest. */
export interface TtsOptions {
  voiceType?: TtsVoiceType;
  speed?: TtsSpeed;
  /** 音量控制 0–100 (default 50, DECISION N10). */
  volume?: number;
}

/** The seed's pre-selected 女声 and the N10 defaults 正常 / 50. */
export const TTS_DEFAULTS: Readonly<Required<TtsOptions>> = Object.freeze({
  voiceType: 'female',
  speed: 'normal',
  volume: 50,
});

/** espeak-ng words per minute per level; 175 is espeak's own default (正常). */
const WPM: Readonly<Record<TtsSpeed, number>> = { verySlow: 100, slow: 140, normal: 175, fast: 215, veryFast: 260 };
/** espeak-ng voice variants (`-v cmn+f3`): a female and a male timbre over the Mandarin voice. */
const VARIANT: Readonly<Record<TtsVoiceType, string>> = { female: 'f3', male: 'm3' };

export interface Tts {
  /**
   * Returns an ARI media URI (`sound:…`) for the text. Without options: the configured voice as it is (the call
   * prompt's behaviour since the walking skeleton; its cache names are unchanged). With options: the voice type,
   * speed and volume given, defaults for the rest; the cache key includes them.
   */
  synthesize(text: string, options?: TtsOptions): Promise<string>;
}

/** Where a sound file lives on this host, its ARI media URI, and how to run a command where Asterisk's files are. */
function soundPlace(cfg: TtsConfig) {
  const hostDir = cfg.chroot ? join(cfg.chroot, cfg.soundsDir) : cfg.soundsDir;
  const mediaOf = (name: string) =>
    cfg.soundsDir.startsWith(ASTERISK_SOUNDS)
      ? `sound:${cfg.soundsDir.slice(ASTERISK_SOUNDS.length)}/${name}`
      : `sound:${cfg.soundsDir}/${name}`;
  const exec = (cmd: string, args: string[]) =>
    cfg.chroot ? run('chroot', [cfg.chroot, cmd, ...args], { timeout: 30_000 }) : run(cmd, args, { timeout: 30_000 });
  const exists = async (name: string) => {
    try {
      await access(join(hostDir, `${name}.wav`));
      return true;
    } catch {
      return false;
    }
  };
  return { hostDir, mediaOf, exec, exists };
}

/** The espeak-ng arguments of a settings combination; undefined options = the configured voice, untouched. */
function espeakArgs(voice: string, options: TtsOptions | undefined): { key: string; args: string[] } {
  if (!options) return { key: voice, args: ['-v', voice] };
  const o = { ...TTS_DEFAULTS, ...options };
  const volume = Math.max(0, Math.min(100, Math.round(o.volume)));
  // espeak's amplitude runs 0–200 with 100 its default: volume 50 (the seed's default) is espeak's normal loudness.
  const args = ['-v', `${voice}+${VARIANT[o.voiceType]}`, '-s', String(WPM[o.speed]), '-a', String(volume * 2)];
  return { key: `${voice}|${o.voiceType}|${o.speed}|${volume}`, args };
}

export function createEspeakTts(cfg: TtsConfig): Tts {
  const place = soundPlace(cfg);
  const inflight = new Map<string, Promise<string>>();

  async function synthesizeOnce(name: string, text: string, args: string[]): Promise<string> {
    const media = place.mediaOf(name);
    if (await place.exists(name)) return media;
    await mkdir(place.hostDir, { recursive: true });
    const raw = `${cfg.soundsDir}/${name}.raw.wav`;
    const tmp = `${cfg.soundsDir}/${name}.tmp.wav`;
    await place.exec('espeak-ng', [...args, '-w', raw, '--', text]);
    await place.exec('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', tmp]);
    // Atomic publish: Asterisk never sees a half-written file.
    await rename(join(place.hostDir, `${name}.tmp.wav`), join(place.hostDir, `${name}.wav`));
    await rm(join(place.hostDir, `${name}.raw.wav`), { force: true });
    return media;
  }

  return {
    synthesize(text: string, options?: TtsOptions): Promise<string> {
      const { key, args } = espeakArgs(cfg.voice, options);
      const name = `tts-${createHash('sha256').update(`${key}\n${text}`).digest('hex').slice(0, 24)}`;
      let p = inflight.get(name);
      if (!p) {
        p = synthesizeOnce(name, text, args).finally(() => inflight.delete(name));
        inflight.set(name, p);
      }
      return p;
    },
  };
}

/**
 * Music on hold for callees waiting for an agent: a short plucked arpeggio synthesised once by sox (no music files
 * need shipping), 8 kHz mono like every prompt. Returns its ARI media URI; the caller loops it.
 */
export function createHoldMusic(cfg: TtsConfig): () => Promise<string> {
  const place = soundPlace(cfg);
  const name = 'hold-music-v1';
  let made: Promise<string> | undefined;
  const make = async (): Promise<string> => {
    if (await place.exists(name)) return place.mediaOf(name);
    await mkdir(place.hostDir, { recursive: true });
    const tmp = `${cfg.soundsDir}/${name}.tmp.wav`;
    const notes = [
      ['0.6', 'C4'],
      ['0.6', 'E4'],
      ['0.6', 'G4'],
      ['1.2', 'C5'],
      ['0.6', 'G4'],
      ['0.6', 'E4'],
      ['1.8', 'C4'],
    ];
    const synth = notes.flatMap(([seconds, note], i) => [...(i ? [':'] : []), 'synth', seconds!, 'pluck', note!]);
    await place.exec('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', tmp, ...synth, 'vol', '0.6']);
    await rename(join(place.hostDir, `${name}.tmp.wav`), join(place.hostDir, `${name}.wav`));
    return place.mediaOf(name);
  };
  return () => {
    made ??= make().catch((err: unknown) => {
      made = undefined;
      throw err;
    });
    return made;
  };
}

/** The uploaded formats the importer accepts (seed-spec §1.1: "录音文件, mp3/wav"). */
export type RecordingFormat = 'wav' | 'mp3';

/** What the file's first bytes say it is: RIFF/WAVE, or mp3 (an ID3 tag or an MPEG audio frame sync). */
export function sniffRecordingFormat(data: Buffer): RecordingFormat | undefined {
  if (data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WAVE') {
    return 'wav';
  }
  if (data.length >= 3 && data.toString('latin1', 0, 3) === 'ID3') return 'mp3';
  if (data.length >= 2 && data[0] === 0xff && ((data[1] ?? 0) & 0xe0) === 0xe0) return 'mp3';
  return undefined;
}

export class RecordingRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingRejected';
  }
}

export interface RecordingImporter {
  /**
   * Convert an uploaded recording to the 8 kHz mono 16-bit WAV Asterisk plays and publish it in the sounds
   * directory, named by the hash of its bytes (the same upload twice is one file). Returns its ARI media URI and
   * its duration. Throws {@link RecordingRejected} when the bytes are not a wav/mp3 sox can read.
   */
  importRecording(data: Buffer): Promise<{ media: string; format: RecordingFormat; seconds: number }>;
}

export function createRecordingImporter(cfg: TtsConfig): RecordingImporter {
  const place = soundPlace(cfg);
  return {
    async importRecording(data) {
      const format = sniffRecordingFormat(data);
      if (!format) throw new RecordingRejected('not a wav or mp3 file');
      const name = `rec-${createHash('sha256').update(data).digest('hex').slice(0, 24)}`;
      const media = place.mediaOf(name);
      const duration = async () => {
        const { stdout } = await place.exec('soxi', ['-D', `${cfg.soundsDir}/${name}.wav`]);
        return Math.round(Number(String(stdout).trim()) * 100) / 100;
      };
      if (await place.exists(name)) return { media, format, seconds: await duration() };
      await mkdir(place.hostDir, { recursive: true });
      const upload = `${name}.upload.${format}`;
      await writeFile(join(place.hostDir, upload), data);
      try {
        await place.exec('sox', [
          `${cfg.soundsDir}/${upload}`,
          '-r',
          '8000',
          '-c',
          '1',
          '-b',
          '16',
          '-e',
          'signed-integer',
          `${cfg.soundsDir}/${name}.tmp.wav`,
        ]);
      } catch (err) {
        await rm(join(place.hostDir, `${name}.tmp.wav`), { force: true });
        const stderr = (err as { stderr?: unknown }).stderr;
        const detail = typeof stderr === 'string' && stderr.trim() ? stderr : (err as Error).message;
        const why = detail.trim().split('\n')[0];
        throw new RecordingRejected(`the ${format} file could not be decoded: ${why}`);
      } finally {
        await rm(join(place.hostDir, upload), { force: true });
      }
      await rename(join(place.hostDir, `${name}.tmp.wav`), join(place.hostDir, `${name}.wav`));
      return { media, format, seconds: await duration() };
    },
  };
}
