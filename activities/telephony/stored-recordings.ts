/**
 * Asterisk's stored recordings, read and deleted over ARI's REST API with plain HTTP (no websocket, no Stasis
 * application): `GET /recordings/stored`, `GET /recordings/stored/{name}/file`, `DELETE /recordings/stored/{name}`.
 * The files stay where Asterisk wrote them, so this works the same for the embedded Asterisk and the one of
 * docker-compose (whose recording directory should be a volume to survive the container).
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { isSafeRecordingName } from './recorder';

export interface AriHttpConfig {
  url: string;
  username: string;
  password: string;
}

export interface StoredRecordingRef {
  name: string;
  format: string;
}

/** Asterisk answered something other than success or "not found". */
export class AriHttpError extends Error {
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(`ARI answered ${status} to ${what}`);
    this.name = 'AriHttpError';
  }
}

export class StoredRecordings {
  private readonly auth: string;

  constructor(
    private readonly cfg: AriHttpConfig,
    private readonly timeoutMs = 10_000,
  ) {
    this.auth = `Basic ${Buffer.from(`${cfg.username}:${cfg.password}`).toString('base64')}`;
  }

  private url(path: string): string {
    return `${this.cfg.url.replace(/\/$/, '')}/ari${path}`;
  }

  private request(path: string, method = 'GET', signal?: AbortSignal): Promise<Response> {
    return fetch(this.url(path), {
      method,
      headers: { authorization: this.auth },
      signal: signal ?? AbortSignal.timeout(this.timeoutMs),
    });
  }

  /** Every stored recording (name and format). */
  async list(): Promise<StoredRecordingRef[]> {
    const r = await this.request('/recordings/stored');
    if (!r.ok) throw new AriHttpError(r.status, 'GET /recordings/stored');
    return (await r.json()) as StoredRecordingRef[];
  }

  /**
   * The stored file as a stream, with its length and Asterisk's content type; undefined if Asterisk has no such
   * recording (never made, or deleted by retention).
   */
  async open(name: string): Promise<{ stream: Readable; length?: number; contentType: string } | undefined> {
    if (!isSafeRecordingName(name)) return undefined;
    // No overall timeout on a download: a long recording may take a while; only the answer must come promptly.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    let r: Response;
    try {
      r = await this.request(`/recordings/stored/${encodeURIComponent(name)}/file`, 'GET', abort.signal);
    } finally {
      clearTimeout(timer);
    }
    if (r.status === 404) return undefined;
    if (!r.ok || !r.body) throw new AriHttpError(r.status, 'GET /recordings/stored/{name}/file');
    const length = Number(r.headers.get('content-length'));
    return {
      stream: Readable.fromWeb(r.body as WebReadableStream<Uint8Array>),
      ...(Number.isFinite(length) && length > 0 ? { length } : {}),
      contentType: r.headers.get('content-type') ?? 'audio/wav',
    };
  }

  /** The whole file in memory (tests, small files). Undefined if there is none. */
  async read(name: string): Promise<Buffer | undefined> {
    const file = await this.open(name);
    if (!file) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of file.stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Delete a stored recording. False if it did not exist. */
  async delete(name: string): Promise<boolean> {
    if (!isSafeRecordingName(name)) return false;
    const r = await this.request(`/recordings/stored/${encodeURIComponent(name)}`, 'DELETE');
    if (r.status === 404) return false;
    if (!r.ok) throw new AriHttpError(r.status, 'DELETE /recordings/stored/{name}');
    return true;
  }
}
