/**
 * Speech recognition with a Vosk server (alphacephei/vosk-server, `websocket/asr_server.py`; e.g. the
 * `alphacep/kaldi-cn` image on port 2700), fed with the callee's audio from the call's {@link AudioSource}.
 *
 * The protocol, as the server implements it:
 * - text `{"config": {"sample_rate": N, "words": true}}` first (no answer);
 * - binary messages of 16-bit little-endian mono PCM; the server answers **each** with one JSON message:
 *   `{"partial": "…"}` while an utterance is in progress, or `{"text": "…", "result": [{word, start, end, conf}]}`
 *   when its endpointer closes one (`start`/`end` in seconds of the audio sent on this connection);
 * - text `{"eof" : 1}` — byte for byte, the server compares the string, spaces included — asks for the final result
 *   and ends the session.
 *
 * One websocket per listen, not per call: a turn starts from a fresh recogniser, so an utterance the callee began
 * during the previous prompt, or a result the server produced after the last turn ended, can never be taken as this
 * turn's answer; and no server slot is held while the robot talks. The cost is one local websocket handshake per
 * turn (about a millisecond). Speech that began just before the listen is not lost: the first {@link PRE_ROLL_MS} of
 * audio sent are the tap's recent past.
 *
 * A recogniser that cannot be reached does not end the turn: the listen then waits for its timeout like a caller
 * who said nothing (keys still work), and the failure is logged.
 */
import WebSocket from 'ws';
import type { Logger } from '../logger';
import type { AudioSource, AudioSubscription } from './audio-tap';
import type { ListenOptions, RecognizedSpeech, SpeechRecognizer } from './recognizer';

export interface VoskConfig {
  /** `ws://host:2700` */
  url: string;
  /** Of the audio sent (the tap's rate); the server resamples to its model's rate. */
  sampleRate: number;
  /** Audio is sent in messages of this length. Default 100 ms. */
  chunkMs?: number;
  /** Default 3 s. */
  connectTimeoutMs?: number;
}

/** Audio from just before the listen began that is sent first. */
export const PRE_ROLL_MS = 300;

/** The exact end-of-stream message asr_server.py recognises (it compares strings). */
export const VOSK_EOF = '{"eof" : 1}';

export type VoskMessage =
  | { kind: 'partial'; text: string }
  /** `end`: seconds into the session's audio when the last word ended, when the server sent word times. */
  | { kind: 'final'; text: string; end?: number }
  | { kind: 'other' };

/**
 * Chinese models write words separated by spaces ("我 要 退订"); the dialog matcher reads text as it would be typed.
 * Spaces between two CJK characters go, other runs of white space become one space.
 */
export function normalizeRecognizedText(text: string): string {
  const cjk = '\\p{Script=Han}\\u3000-\\u303f\\uff00-\\uffef';
  return text
    .trim()
    .replace(/\s+/g, ' ')
    .replace(new RegExp(`(?<=[${cjk}]) (?=[${cjk}])`, 'gu'), '');
}

/** One message of the server, whatever its shape. */
export function parseVoskMessage(data: string): VoskMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return { kind: 'other' };
  }
  if (!msg || typeof msg !== 'object') return { kind: 'other' };
  const m = msg as {
    partial?: unknown;
    text?: unknown;
    result?: unknown;
    alternatives?: unknown;
  };
  if (typeof m.partial === 'string') return { kind: 'partial', text: normalizeRecognizedText(m.partial) };
  // With max_alternatives > 0 the server answers {"alternatives": [{"text", "confidence", "result"?}, …]}.
  const best =
    Array.isArray(m.alternatives) && m.alternatives.length
      ? (m.alternatives[0] as typeof m)
      : typeof m.text === 'string'
        ? m
        : undefined;
  if (!best || typeof best.text !== 'string') return { kind: 'other' };
  const words = Array.isArray(best.result) ? (best.result as { end?: unknown }[]) : [];
  const ends = words.map((w) => w.end).filter((e): e is number => typeof e === 'number' && Number.isFinite(e));
  return {
    kind: 'final',
    text: normalizeRecognizedText(best.text),
    ...(ends.length ? { end: Math.max(...ends) } : {}),
  };
}

export class VoskRecognizer implements SpeechRecognizer {
  private readonly chunkBytes: number;

  constructor(
    private readonly audio: AudioSource,
    private readonly cfg: VoskConfig,
    private readonly logger: Logger,
  ) {
    this.chunkBytes = Math.round(((cfg.chunkMs ?? 100) * cfg.sampleRate) / 1000) * 2;
  }

  listen(channelId: string, opts: ListenOptions): Promise<RecognizedSpeech | undefined> {
    return new Promise((resolve) => {
      let settled = false;
      let ws: WebSocket | undefined;
      let subscription: AudioSubscription | undefined;
      let spoke = false;
      const finish = (heard: RecognizedSpeech | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', onAbort);
        subscription?.unsubscribe();
        if (ws?.readyState === WebSocket.OPEN) {
          // Let the server end its session cleanly; its final answer is no longer wanted.
          ws.send(VOSK_EOF);
          ws.close(1000);
        } else ws?.terminate();
        resolve(heard);
      };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(() => finish(undefined), opts.timeoutMs);
      if (opts.signal.aborted) return finish(undefined);
      opts.signal.addEventListener('abort', onAbort);

      const start = async () => {
        const stream = await this.audio.open(channelId);
        if (!stream || settled) return; // the call is gone: the caller sees the hang-up itself
        const socket = new WebSocket(this.cfg.url, { handshakeTimeout: this.cfg.connectTimeoutMs ?? 3_000 });
        ws = socket;
        let startedAt = Date.now();
        socket.on('open', () => {
          if (settled) return;
          socket.send(JSON.stringify({ config: { sample_rate: this.cfg.sampleRate, words: true } }));
          let pending: Buffer[] = [];
          let pendingBytes = 0;
          const sub = stream.subscribe(
            (pcm) => {
              pending.push(pcm);
              pendingBytes += pcm.length;
              if (pendingBytes < this.chunkBytes || socket.readyState !== WebSocket.OPEN) return;
              socket.send(Buffer.concat(pending, pendingBytes));
              pending = [];
              pendingBytes = 0;
            },
            { preRollMs: PRE_ROLL_MS },
          );
          startedAt = sub.startedAt;
          subscription = sub;
        });
        socket.on('message', (data: Buffer, isBinary: boolean) => {
          if (isBinary || settled) return;
          const msg = parseVoskMessage(data.toString('utf8'));
          if (msg.kind === 'partial' && msg.text && !spoke) {
            spoke = true;
            try {
              opts.onSpeech?.(msg.text);
            } catch (err) {
              this.logger.error({ err, channelId }, 'onSpeech callback failed');
            }
          } else if (msg.kind === 'final' && msg.text) {
            const at =
              msg.end !== undefined ? Math.min(Date.now(), startedAt + Math.round(msg.end * 1000)) : Date.now();
            finish({ text: msg.text, at });
          }
        });
        socket.on('error', (err) => {
          if (!settled) this.logger.warn({ err, channelId, url: this.cfg.url }, 'speech recogniser error');
        });
        socket.on('close', (code) => {
          if (!settled) this.logger.warn({ channelId, code }, 'speech recogniser closed the session early');
        });
      };
      start().catch((err: unknown) =>
        this.logger.error({ err, channelId }, 'audio tap failed: this turn hears keys and silence only'),
      );
    });
  }
}
