/**
 * Recording of an answered call, both directions in one mono WAV, through ARI.
 *
 * How: a **snoop channel** on the call (`POST /channels/{id}/snoop?spy=both&whisper=none`) recorded with
 * `POST /channels/{snoopId}/record?format=wav`. The snoop channel carries an audiohook that mixes what Asterisk
 * reads from the callee and what it writes to them (the robot's prompts), so the call itself is untouched: no bridge,
 * no change to how prompts are played on the channel. A mixing bridge with `POST /bridges/{id}/record` would also
 * record both sides, but the call would have to live in that bridge, and playbacks, DTMF and hang-up handling of the
 * dial activity would change with it.
 *
 * Measured on Asterisk 22.10.1 (test/integration/recording.spec.ts): the WAV is 8 kHz 16-bit mono; a robot tone on
 * the channel and the callee's RTP both appear in it; when the call hangs up first, Asterisk ends the snoop channel
 * and emits `RecordingFinished` (state `done`, `duration` in whole seconds) within ~15 ms, and the file is complete.
 * The audiohook yields frames only while audio flows in at least one direction (a carrier sends RTP for the whole
 * call, and so does Asterisk while it plays), so the file's length is the talk time when media flows throughout.
 *
 * Asterisk config this module needs: res_stasis_snoop, res_stasis_recording and format_wav loaded (modules.conf
 * autoloads them). Recordings are stored by Asterisk under its recording directory (`/var/spool/asterisk/recording`)
 * and read back through ARI (`GET /recordings/stored/{name}/file`), see stored-recordings.ts.
 *
 * **The snoop channel enters the Stasis application given as `app`**, which must be the application of the ARI
 * connection that owns the call (its websocket receives the recording's events). Its StasisStart and
 * ChannelDestroyed events carry the snoop channel's own id (`<channelId>-rec`), which the AriAdapter ignores.
 */
import type { Client } from 'ari-client';

/** What the call record keeps about its recording. */
export interface CallRecordingInfo {
  /** Name of the stored recording in Asterisk (the attempt id). */
  name: string;
  format: 'wav';
  /** As Asterisk reports it (whole seconds). */
  durationSeconds?: number;
}

export interface RecordingHandle {
  readonly name: string;
  /**
   * Stop the recording (if the call has not already ended it), wait until Asterisk has stored the file, and hang up
   * the snoop channel. Idempotent: later calls return the first call's result. Rejects if Asterisk reports the
   * recording failed, or if no stored file exists after `stopTimeoutMs`.
   */
  stop(): Promise<CallRecordingInfo>;
}

export interface RecordingOptions {
  /** The Stasis application of the ARI connection that owns the call (AriConfig.app / ARI_APP). */
  app: string;
  /** Asterisk stops recording after this long (the call's maximum duration; 0 = no limit). Default 0. */
  maxDurationSeconds?: number;
  /** How long stop() waits for Asterisk's RecordingFinished. Default 5 s. */
  stopTimeoutMs?: number;
}

/** Recording names become file names in Asterisk's recording directory: no path separators, no dot files. */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export function isSafeRecordingName(name: string): boolean {
  return SAFE_NAME.test(name);
}

type RecordingEnd = { state: 'done'; duration?: number } | { state: 'failed'; cause?: string };

interface RecordingEvent {
  recording: { name: string; state?: string; duration?: number; cause?: string };
}

/**
 * One listener per client and event type for all recordings in progress, keyed by recording name, instead of a
 * listener per recording (a hundred calls would otherwise trip EventEmitter's leak warning).
 */
const waiters = new WeakMap<Client, Map<string, (end: RecordingEnd) => void>>();

function waitersOf(client: Client): Map<string, (end: RecordingEnd) => void> {
  let map = waiters.get(client);
  if (!map) {
    const m = new Map<string, (end: RecordingEnd) => void>();
    const settle = (name: string, end: RecordingEnd) => {
      const w = m.get(name);
      m.delete(name);
      w?.(end);
    };
    client.on('RecordingFinished', (e: RecordingEvent) =>
      settle(e.recording.name, {
        state: 'done',
        ...(typeof e.recording.duration === 'number' ? { duration: e.recording.duration } : {}),
      }),
    );
    client.on('RecordingFailed', (e: RecordingEvent) =>
      settle(e.recording.name, { state: 'failed', ...(e.recording.cause ? { cause: e.recording.cause } : {}) }),
    );
    waiters.set(client, m);
    map = m;
  }
  return map;
}

/**
 * Start recording both directions of the answered channel `channelId` under `name` (the attempt id). Rejects if
 * Asterisk refuses (e.g. the channel is already gone); nothing is left behind then.
 */
export async function startCallRecording(
  client: Client,
  channelId: string,
  name: string,
  opts: RecordingOptions,
): Promise<RecordingHandle> {
  if (!isSafeRecordingName(name)) throw new Error(`recording name "${name}" is not a safe file name`);
  const snoopId = `${channelId}-rec`;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 5_000;
  const pending = waitersOf(client);
  let ended: RecordingEnd | undefined;
  const finished = new Promise<RecordingEnd>((resolve) =>
    pending.set(name, (end) => {
      ended = end;
      resolve(end);
    }),
  );

  try {
    await client.channels.snoopChannelWithId({ channelId, snoopId, app: opts.app, spy: 'both', whisper: 'none' });
  } catch (err) {
    pending.delete(name);
    throw err;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      // Registered before the request: RecordingFinished can come before the HTTP answer on a call that just ended.
      await client.channels.record({
        channelId: snoopId,
        name,
        format: 'wav',
        ifExists: 'overwrite',
        beep: false,
        terminateOn: 'none',
        maxSilenceSeconds: 0,
        maxDurationSeconds: opts.maxDurationSeconds ?? 0,
      });
      break;
    } catch (err) {
      // The snoop channel enters Stasis a moment after snoopChannelWithId has answered; until then Asterisk refuses
      // to record it (409 "Channel not in Stasis application"). Seen under load; it takes a few milliseconds.
      if (attempt < 40 && /not in Stasis/i.test(err instanceof Error ? err.message : String(err))) {
        await delay(25);
        continue;
      }
      pending.delete(name);
      await hangupIfThere(client, snoopId);
      throw err;
    }
  }

  let result: Promise<CallRecordingInfo> | undefined;
  const stop = async (): Promise<CallRecordingInfo> => {
    if (!ended) {
      try {
        await client.recordings.stop({ recordingName: name });
      } catch (err) {
        // Not live any more: the call ended and Asterisk finished the recording on its own.
        if (!isNotFound(err)) throw err;
      }
    }
    const end = await Promise.race([finished, delay(stopTimeoutMs).then(() => undefined)]);
    pending.delete(name);
    await hangupIfThere(client, snoopId);
    if (end?.state === 'failed') throw new Error(`recording ${name} failed${end.cause ? `: ${end.cause}` : ''}`);
    if (!end) {
      // No RecordingFinished seen (e.g. the websocket dropped meanwhile): trust the stored file if there is one.
      await client.recordings.getStored({ recordingName: name });
      return { name, format: 'wav' };
    }
    return { name, format: 'wav', ...(end.duration !== undefined ? { durationSeconds: end.duration } : {}) };
  };
  return {
    name,
    stop: () => (result ??= stop()),
  };
}

async function hangupIfThere(client: Client, channelId: string): Promise<void> {
  try {
    await client.channels.hangup({ channelId });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function isNotFound(err: unknown): boolean {
  const e = err as { message?: string; statusCode?: number };
  return e?.statusCode === 404 || /not found|404/i.test(e?.message ?? '');
}
