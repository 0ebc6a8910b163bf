/**
 * RFC 2833 key presses for sipp to send in sequence. sipp's `play_pcap_audio` replays a capture as it is, and the
 * captures shipped with sipp (/usr/share/sip-tester/dtmf_2833_<d>.pcap) each carry their own fixed RTP sequence
 * numbers and timestamps: replayed one after another, a key whose capture has lower numbers than the previous one is
 * dropped by Asterisk as an old packet. This rewrites copies of them so that the n-th key's packets follow the
 * previous key's, and writes them as `key<n>-<digit>.pcap` into `dir` (sipp's working directory).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE = '/usr/share/sip-tester';
const PCAP_HEADER = 24;
const RECORD_HEADER = 16;
/** Ethernet + IPv4 + UDP headers in front of the RTP packet in these captures. */
const RTP_OFFSET = 14 + 20 + 8;

export function writeKeySequence(dir: string, digits: string[]): string[] {
  mkdirSync(dir, { recursive: true });
  return digits.map((digit, n) => {
    const name = `key${n}-${digit}.pcap`;
    const data = Buffer.from(readFileSync(join(SOURCE, `dtmf_2833_${digit}.pcap`)));
    let off = PCAP_HEADER;
    let k = 0;
    while (off + RECORD_HEADER <= data.length) {
      const length = data.readUInt32LE(off + 8);
      const rtp = off + RECORD_HEADER + RTP_OFFSET;
      data.writeUInt16BE((10_000 + n * 100 + k) & 0xffff, rtp + 2); // sequence number
      data.writeUInt32BE(100_000 + n * 80_000, rtp + 4); // one timestamp per event (RFC 2833)
      off += RECORD_HEADER + length;
      k++;
    }
    writeFileSync(join(dir, name), data);
    return name;
  });
}
