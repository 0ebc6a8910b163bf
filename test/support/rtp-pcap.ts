/**
 * Callee audio for sipp to play (`play_pcap_audio`), cut from sipp's own capture of speech
 * (/usr/share/sip-tester/g711a.pcap: PCMA, 30 ms per packet, silent for its first 0.6 s, then voiced): `leadMs` of
 * PCMA silence (0xD5), then `speechMs` of the voice, then `silenceMs` of silence, restamped as one stream. A short "hello" and silence is how a person answers; a long greeting
 * is how an answering machine does.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE = '/usr/share/sip-tester/g711a.pcap';
const PCAP_HEADER = 24;
const RECORD_HEADER = 16;
const RTP_OFFSET = 14 + 20 + 8;
const PACKET_MS = 30;
const PCMA_SILENCE = 0xd5;
/** Where the capture is loud (1.86 s in): the first second of its speech is too quiet for AMD to call it a word. */
const VOICE_FROM = 62;

export function writeGreeting(
  dir: string,
  name: string,
  opts: { leadMs: number; speechMs: number; silenceMs: number },
): string {
  mkdirSync(dir, { recursive: true });
  const data = readFileSync(SOURCE);
  const records: Buffer[] = [];
  for (let off = PCAP_HEADER; off + RECORD_HEADER <= data.length;) {
    const length = data.readUInt32LE(off + 8);
    records.push(data.subarray(off, off + RECORD_HEADER + length));
    off += RECORD_HEADER + length;
  }
  const template = records[0]!;
  const voice = records.slice(VOICE_FROM, VOICE_FROM + Math.round(opts.speechMs / PACKET_MS));
  if (voice.length * PACKET_MS < opts.speechMs - PACKET_MS) throw new RangeError('the capture has less speech');
  const silent = (n: number) => Array.from({ length: Math.round(n / PACKET_MS) }, () => null);
  const plan: (Buffer | null)[] = [...silent(opts.leadMs), ...voice, ...silent(opts.silenceMs)];
  const rtp = RECORD_HEADER + RTP_OFFSET;
  const out = plan.map((from, i) => {
    const r = Buffer.from(from ?? template);
    if (!from) r.fill(PCMA_SILENCE, rtp + 12);
    // Restamp: one packet every 30 ms, consecutive sequence numbers and RTP timestamps.
    const usec = template.readUInt32LE(4) + i * PACKET_MS * 1000;
    r.writeUInt32LE(template.readUInt32LE(0) + Math.floor(usec / 1_000_000), 0);
    r.writeUInt32LE(usec % 1_000_000, 4);
    r.writeUInt16BE((template.readUInt16BE(rtp + 2) + i) & 0xffff, rtp + 2);
    r.writeUInt32BE((template.readUInt32BE(rtp + 4) + i * 240) >>> 0, rtp + 4);
    return r;
  });
  writeFileSync(join(dir, name), Buffer.concat([data.subarray(0, PCAP_HEADER), ...out]));
  return name;
}
