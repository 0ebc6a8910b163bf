import { readWavInfo } from './wav';

function wav(samples: number, rate = 8000, extraChunk = false): Buffer {
  const data = Buffer.alloc(samples * 2);
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(1, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE(rate * 2, 16);
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(16, 22);
  const list = extraChunk
    ? Buffer.concat([Buffer.from('LIST', 'ascii'), Buffer.from([3, 0, 0, 0, 1, 2, 3, 0])])
    : Buffer.alloc(0);
  const dataHdr = Buffer.alloc(8);
  dataHdr.write('data', 0, 'ascii');
  dataHdr.writeUInt32LE(data.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE', 'ascii'), fmt, list, dataHdr, data]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

describe(readWavInfo.name, () => {
  it('reads format and duration from the data chunk', () => {
    expect(readWavInfo(wav(8000 * 3))).toMatchObject({
      audioFormat: 1,
      channels: 1,
      sampleRate: 8000,
      bitsPerSample: 16,
      dataBytes: 48000,
      dataOffset: 44,
      durationSeconds: 3,
    });
  });

  it('skips other chunks, padded to even sizes', () => {
    expect(readWavInfo(wav(4000, 16000, true))).toMatchObject({ sampleRate: 16000, durationSeconds: 0.25 });
  });

  it('refuses what is not a WAVE file', () => {
    expect(() => readWavInfo(Buffer.from('ID3 not audio at all'))).toThrow('not a RIFF/WAVE file');
    expect(() => readWavInfo(wav(10).subarray(0, 36))).toThrow('no data chunk');
  });
});
