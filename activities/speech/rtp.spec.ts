import { buildRtp, l16ToLittleEndian, parseRtp } from './rtp';
import { callOfTapResource, tapIds } from './audio-tap';

/** A packet as Asterisk's UnicastRTP sends slin16: payload type 118, 640 bytes, bare 12-byte header. */
const samples = Buffer.from([0x01, 0x02, 0xff, 0xfe, 0x80, 0x00]); // 0x0102, -2, -32768 big-endian

describe('parseRtp', () => {
  it('reads the fixed header and takes the rest as payload', () => {
    const packet = buildRtp({
      payloadType: 118,
      marker: true,
      sequence: 15414,
      timestamp: 320,
      ssrc: 0xdeadbeef,
      payload: samples,
    });
    expect(packet.length).toBe(12 + samples.length);
    const p = parseRtp(packet);
    expect(p).toEqual({
      payloadType: 118,
      marker: true,
      sequence: 15414,
      timestamp: 320,
      ssrc: 0xdeadbeef,
      payload: samples,
    });
  });

  it('skips CSRCs, the header extension and padding', () => {
    const header = buildRtp({ payloadType: 118, sequence: 1, timestamp: 2, ssrc: 3, payload: Buffer.alloc(0) });
    header[0] = 0x80 | 0x20 | 0x10 | 2; // padding, extension, two CSRCs
    const csrcs = Buffer.alloc(8, 0xaa);
    const extension = Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44]); // one 32-bit word
    const padding = Buffer.from([0, 0, 3]); // three bytes, the last says how many
    const p = parseRtp(Buffer.concat([header, csrcs, extension, samples, padding]));
    expect(p?.payload).toEqual(samples);
  });

  it('refuses what is not RTP version 2 or is cut short', () => {
    const ok = buildRtp({ payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, payload: samples });
    expect(parseRtp(ok.subarray(0, 11))).toBeUndefined();
    const v1 = Buffer.from(ok);
    v1[0] = 0x40;
    expect(parseRtp(v1)).toBeUndefined();
    const csrcBeyondEnd = Buffer.from(ok.subarray(0, 12));
    csrcBeyondEnd[0] = 0x8f; // 15 CSRCs announced, none there
    expect(parseRtp(csrcBeyondEnd)).toBeUndefined();
    const zeroPadding = Buffer.concat([ok, Buffer.from([0])]);
    zeroPadding.writeUInt8(0x80 | 0x20, 0);
    expect(parseRtp(zeroPadding)).toBeUndefined();
    const extensionBeyondEnd = Buffer.concat([ok.subarray(0, 12), Buffer.from([0xbe, 0xde, 0x00, 0x09])]);
    extensionBeyondEnd.writeUInt8(0x80 | 0x10, 0);
    expect(parseRtp(extensionBeyondEnd)).toBeUndefined();
  });
});

describe('l16ToLittleEndian', () => {
  it('turns network-order samples into little-endian ones without touching the packet', () => {
    const le = l16ToLittleEndian(samples);
    expect([le.readInt16LE(0), le.readInt16LE(2), le.readInt16LE(4)]).toEqual([0x0102, -2, -32768]);
    expect(samples[0]).toBe(0x01);
  });

  it('drops an odd trailing byte', () => {
    expect(l16ToLittleEndian(Buffer.from([0x00, 0x05, 0x07])).readInt16LE(0)).toBe(5);
    expect(l16ToLittleEndian(Buffer.from([0x00, 0x05, 0x07])).length).toBe(2);
  });
});

describe('tap resource ids', () => {
  it('derive from the call channel and lead back to it', () => {
    const ids = tapIds('t1-0-1');
    expect(ids).toEqual({ snoop: 't1-0-1-asr-snoop', media: 't1-0-1-asr-media', bridge: 't1-0-1-asr' });
    expect(Object.values(ids).map(callOfTapResource)).toEqual(['t1-0-1', 't1-0-1', 't1-0-1']);
    expect(callOfTapResource('t1-0-1')).toBeUndefined();
    expect(callOfTapResource('t1-0-1-rec')).toBeUndefined();
  });
});
