/**
 * Text-to-speech with espeak-ng (Mandarin voice `cmn`), converted by sox to the 8 kHz mono 16-bit WAV Asterisk
 * plays. Prompts are cached by a hash of voice and text, so each distinct sentence is synthesised once.
 *
 * With `chroot` set (the embedded Asterisk runs in a Debian sid root), espeak-ng and sox run inside that root —
 * Debian sid's espeak-ng 1.52 reads Mandarin correctly, older ones read pinyin letters — and the file lands in the
 * root's sounds directory. Without it, both commands run on the host and write to `soundsDir` directly (the
 * docker-compose layout, where the sounds directory is a volume shared with Asterisk).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, rename, rm } from 'node:fs/promises';
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

export interface Tts {
  /** Returns an ARI media URI (`sound:…`) for the text. */
  synthesize(text: string): Promise<string>;
}

export function createEspeakTts(cfg: TtsConfig): Tts {
  const hostDir = cfg.chroot ? join(cfg.chroot, cfg.soundsDir) : cfg.soundsDir;
  const exec = (cmd: string, args: string[]) =>
    cfg.chroot ? run('chroot', [cfg.chroot, cmd, ...args], { timeout: 30_000 }) : run(cmd, args, { timeout: 30_000 });
  const inflight = new Map<string, Promise<string>>();

  async function synthesizeOnce(name: string, text: string): Promise<string> {
    const media = cfg.soundsDir.startsWith(ASTERISK_SOUNDS)
      ? `sound:${cfg.soundsDir.slice(ASTERISK_SOUNDS.length)}/${name}`
      : `sound:${cfg.soundsDir}/${name}`;
    try {
      await access(join(hostDir, `${name}.wav`));
      return media;
    } catch {
      // not cached yet
    }
    await mkdir(hostDir, { recursive: true });
    const raw = `${cfg.soundsDir}/${name}.raw.wav`;
    const tmp = `${cfg.soundsDir}/${name}.tmp.wav`;
    await exec('espeak-ng', ['-v', cfg.voice, '-w', raw, '--', text]);
    await exec('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', tmp]);
    // Atomic publish: Asterisk never sees a half-written file.
    await rename(join(hostDir, `${name}.tmp.wav`), join(hostDir, `${name}.wav`));
    await rm(join(hostDir, `${name}.raw.wav`), { force: true });
    return media;
  }

  return {
    synthesize(text: string): Promise<string> {
      const name = `tts-${createHash('sha256').update(`${cfg.voice}\n${text}`).digest('hex').slice(0, 24)}`;
      let p = inflight.get(name);
      if (!p) {
        p = synthesizeOnce(name, text).finally(() => inflight.delete(name));
        inflight.set(name, p);
      }
      return p;
    },
  };
}
