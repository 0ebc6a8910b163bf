/** What a WAV (RIFF/WAVE PCM) file says about itself: format and duration from its chunks. */

export interface WavInfo {
  /** 1 = PCM. */
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Bytes of the `data` chunk, as its header gives them (clipped to the bytes present). */
  dataBytes: number;
  /** Byte offset of the samples. */
  dataOffset: number;
  durationSeconds: number;
}

/** Parse the RIFF header and walk the chunks; throws on anything that is not a WAVE file with fmt and data. */
export function readWavInfo(buf: Buffer): WavInfo {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let fmt: Omit<WavInfo, 'dataBytes' | 'dataOffset' | 'durationSeconds'> | undefined;
  for (let off = 12; off + 8 <= buf.length;) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16) throw new Error('fmt chunk too short');
      fmt = {
        audioFormat: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new Error('data chunk before fmt chunk');
      const dataBytes = Math.min(size, buf.length - body);
      const bytesPerSecond = fmt.sampleRate * fmt.channels * (fmt.bitsPerSample / 8);
      if (!bytesPerSecond) throw new Error('fmt chunk gives no byte rate');
      return { ...fmt, dataBytes, dataOffset: body, durationSeconds: dataBytes / bytesPerSecond };
    }
    off = body + size + (size % 2);
  }
  throw new Error('no data chunk');
}
