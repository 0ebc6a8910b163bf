/**
 * Just enough RTP (RFC 3550) to take audio out of the packets Asterisk's externalMedia channel sends: the fixed
 * 12-byte header, then the CSRC list, an optional header extension and optional padding, all of which are skipped.
 * Linear PCM over RTP (L16, RFC 3551 §4.5.11) is big-endian — Asterisk byte-swaps `slin`/`slin16` frames to network
 * order before sending them — while recognisers want little-endian: {@link l16ToLittleEndian} turns one into the other.
 */

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** A view into the packet, not a copy. */
  payload: Buffer;
}

/** RTP payload type 13: comfort noise (RFC 3389), never audio samples. */
export const PT_COMFORT_NOISE = 13;

/** Parse one RTP packet; undefined when it is not a well-formed RTP version 2 packet. */
export function parseRtp(packet: Buffer): RtpPacket | undefined {
  if (packet.length < 12) return undefined;
  const b0 = packet.readUInt8(0);
  const b1 = packet.readUInt8(1);
  if (b0 >> 6 !== 2) return undefined;
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (extension) {
    // 16-bit profile-defined id, 16-bit length in 32-bit words, then the extension itself.
    if (packet.length < offset + 4) return undefined;
    offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  }
  let end = packet.length;
  if (padding) {
    const pad = packet.readUInt8(packet.length - 1);
    if (pad === 0) return undefined;
    end -= pad;
  }
  if (end < offset) return undefined;
  return {
    payloadType: b1 & 0x7f,
    marker: (b1 & 0x80) !== 0,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}

/**
 * 16-bit big-endian samples (L16 as carried by RTP) as a new little-endian buffer. An odd trailing byte (a
 * malformed payload) is dropped.
 */
export function l16ToLittleEndian(payload: Buffer): Buffer {
  const out = Buffer.from(payload.subarray(0, payload.length & ~1));
  return out.swap16();
}

/** Build an RTP packet (for tests and for anything that sends audio back): version 2, no CSRCs, no extension. */
export function buildRtp(p: Omit<RtpPacket, 'marker'> & { marker?: boolean }): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  header.writeUInt16BE(p.sequence & 0xffff, 2);
  header.writeUInt32BE(p.timestamp >>> 0, 4);
  header.writeUInt32BE(p.ssrc >>> 0, 8);
  return Buffer.concat([header, p.payload]);
}
