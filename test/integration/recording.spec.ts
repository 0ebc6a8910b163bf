/**
 * Call recordings (issue #5): recorded through ARI on a real call, stored by Asterisk, downloaded through the API
 * (DownloadRecording), and deleted by the retention sweep.
 * Real: Asterisk over ARI (an AriAdapter with its own `rec-` application), a sipp callee (test/sipp/talk.xml: silent
 * for 2 s, then plays 7 s of PCMA speech, hangs up 5 s after answering), FerretDB, the NestJS API over HTTP
 * (supertest). No fakes. The call is driven by the test itself (originate, tone, recording), not by the dial
 * activity, which is being rewritten; that activity only has to call startCallRecording the same way.
 */
import request from 'supertest';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { AriAdapter } from '../../activities/ari/ari-adapter';
import { createLogger } from '../../activities/logger';
import { sweepRecordings } from '../../activities/telephony/recording-retention';
import { startCallRecording, type CallRecordingInfo } from '../../activities/telephony/recorder';
import { StoredRecordings } from '../../activities/telephony/stored-recordings';
import { readWavInfo, type WavInfo } from '../../activities/telephony/wav';
import { apiTestApp, apiTestConfig, type ApiTestApp } from '../support/api-app';
import { uniqueName } from '../support/servers';
import { sleep } from '../support/wait';

/** sipp ports of this suite: 5600-5649 (media 20000 + 10·(port mod 1000), control 30000 + port mod 1000). */
const TALK_PORT = 5600;
const TENANT = uniqueName('rec_t_');
const OTHER_TENANT = uniqueName('rec_o_');
const KEYS = {
  manager: 'rec-manager-key-0001',
  auditor: 'rec-auditor-key-0001',
  other: 'rec-other-key-000001',
};
const config = apiTestConfig('rec', {
  API_KEYS: `${KEYS.manager}:${TENANT}:manager,${KEYS.auditor}:${TENANT}:auditor,${KEYS.other}:${OTHER_TENANT}:manager`,
});
const logger = createLogger(config.logLevel, 'recording-test');
const app = uniqueName('rec-');
const store = new StoredRecordings(config.ari);
const created: string[] = [];

let api: ApiTestApp;
let ari: AriAdapter;
let callee: SippCallee | undefined;

/** Supertest: keep a binary body as a Buffer. */
function binary(res: request.Response, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

/** RMS level and zero crossings per second of [from, to) seconds of a 16-bit mono WAV. */
function measure(buf: Buffer, info: WavInfo, from: number, to: number): { rms: number; crossingsPerSecond: number } {
  const start = info.dataOffset + Math.floor(from * info.sampleRate) * 2;
  const end = Math.min(info.dataOffset + info.dataBytes, info.dataOffset + Math.floor(to * info.sampleRate) * 2);
  let sum = 0;
  let crossings = 0;
  let prev = 0;
  const n = (end - start) / 2;
  for (let off = start; off < end; off += 2) {
    const s = buf.readInt16LE(off);
    sum += s * s;
    if (off > start && s < 0 !== prev < 0) crossings++;
    prev = s;
  }
  return { rms: Math.sqrt(sum / n), crossingsPerSecond: (crossings * info.sampleRate) / n };
}

async function claimCall(attemptId: string, tenantId = TENANT): Promise<void> {
  const taskId = attemptId.replace(/-0-1$/, '');
  expect(
    await api.ports.repos.calls.claim({
      _id: attemptId,
      tenantId,
      taskId,
      contactIndex: 0,
      attempt: 1,
      phone: '+8613800000001',
    }),
  ).toEqual({
    claimed: true,
  });
}

/** What the dial activity stores when the call ends (only the times matter here). */
async function finalizeCall(attemptId: string, answeredAt: number, endedAt: number): Promise<void> {
  await api.ports.repos.calls.finalize(
    TENANT,
    {
      attemptId,
      attempt: 1,
      code: 'SUCCESS',
      label: '呼叫成功',
      hangupBy: 'USER',
      startedAt: new Date(answeredAt).toISOString(),
      answeredAt: new Date(answeredAt).toISOString(),
      endedAt: new Date(endedAt).toISOString(),
      ringSeconds: 0,
      talkSeconds: (endedAt - answeredAt) / 1000,
      dtmf: [],
    },
    { taskId: attemptId.replace(/-0-1$/, ''), contactIndex: 0, phone: '+8613800000001' },
  );
}

/** Play a 1 kHz tone on our side of the call (the robot talking) until `untilMs` (epoch ms). */
async function robotTone(channelId: string, untilMs: number): Promise<void> {
  const playbackId = `${channelId}-tone`;
  await ari.ari.channels.play({ channelId, media: 'tone:1000', playbackId });
  await sleep(Math.max(0, untilMs - Date.now()));
  await ari.ari.playbacks.stop({ playbackId });
}

beforeAll(async () => {
  callee = await startCallee('talk', TALK_PORT);
  ari = await AriAdapter.connect({ ...config.ari, app }, logger);
  api = await apiTestApp('recording', { config, logger });
});

afterAll(async () => {
  for (const name of created) await store.delete(name);
  await api?.close();
  await ari?.close();
  stopCallees(callee ? [callee] : []);
});

describe('call recordings', () => {
  let attemptId: string;
  let talkSeconds: number;
  let recorded: CallRecordingInfo;

  it('records both directions of an answered call, finishing when the callee hangs up first', async () => {
    attemptId = `${uniqueName('rec')}-0-1`;
    await claimCall(attemptId);
    const session = await ari.originate({
      channelId: attemptId,
      endpoint: `PJSIP/carrier/sip:8613800000001@127.0.0.1:${TALK_PORT}`,
      timeoutSeconds: 10,
    });
    const answeredAt = await session.answered;
    const recording = await startCallRecording(ari.ari, attemptId, attemptId, { app, maxDurationSeconds: 60 });
    created.push(attemptId);
    // The robot talks while the callee is silent (0-2 s); then the callee talks (2-5 s) and hangs up.
    await robotTone(attemptId, answeredAt + 2_000);
    const destroyed = await session.destroyed;
    recorded = await recording.stop();
    talkSeconds = (destroyed.at - answeredAt) / 1000;
    expect(session.hangupRequestedAt).toBeUndefined(); // the callee hung up, not us
    expect(recorded).toMatchObject({ name: attemptId, format: 'wav' });
    expect(recorded.durationSeconds).toBeGreaterThanOrEqual(4);
    expect(await recording.stop()).toEqual(recorded); // idempotent
    await finalizeCall(attemptId, answeredAt, destroyed.at);
    expect(await api.ports.repos.calls.setRecording(TENANT, attemptId, recorded)).toBe(true);
  });

  it('DownloadRecording returns a WAV whose duration is the talk time, holding the robot and the callee', async () => {
    const res = await request(api.app.getHttpServer())
      .get(`/calls/${attemptId}/recording`)
      .set('Authorization', `Bearer ${KEYS.manager}`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^audio\/wav/);
    expect(res.headers['content-disposition']).toContain(`${attemptId}.wav`);
    const wav = res.body as Buffer;
    const info = readWavInfo(wav);
    expect(info).toMatchObject({ audioFormat: 1, channels: 1, sampleRate: 8000, bitsPerSample: 16 });
    logger.info({ talkSeconds, recordingSeconds: info.durationSeconds }, 'recording vs talk time');
    expect(Math.abs(info.durationSeconds - talkSeconds)).toBeLessThan(1);

    // 0-1.8 s: the robot's 1 kHz tone (about 2,000 zero crossings a second); 2.5-4.5 s: the callee's speech.
    const robot = measure(wav, info, 0.1, 1.8);
    const callee = measure(wav, info, 2.5, 4.5);
    expect(robot.rms).toBeGreaterThan(1_000);
    expect(robot.crossingsPerSecond).toBeGreaterThan(1_900);
    expect(robot.crossingsPerSecond).toBeLessThan(2_100);
    expect(callee.rms).toBeGreaterThan(100);
    expect(callee.crossingsPerSecond).toBeLessThan(1_500);
  });

  it('lets auditors download, hides the call from other tenants and refuses requests without a key', async () => {
    const server = api.app.getHttpServer();
    await request(server)
      .get(`/calls/${attemptId}/recording`)
      .set('X-API-Key', KEYS.auditor)
      .buffer(true)
      .parse(binary)
      .expect(200);
    const other = await request(server)
      .get(`/calls/${attemptId}/recording`)
      .set('Authorization', `Bearer ${KEYS.other}`)
      .expect(404);
    expect(other.headers['content-type']).toMatch(/problem\+json/);
    await request(server).get(`/calls/${attemptId}/recording`).expect(401);
  });

  it('answers 404 for a call without a recording', async () => {
    const unrecorded = `${uniqueName('rec')}-0-1`;
    await claimCall(unrecorded);
    const res = await request(api.app.getHttpServer())
      .get(`/calls/${unrecorded}/recording`)
      .set('Authorization', `Bearer ${KEYS.manager}`)
      .expect(404);
    expect((res.body as { detail: string }).detail).toContain('recording');
  });

  it('stop() during the call ends the file at that moment and leaves the call up', async () => {
    const id = `${uniqueName('rec')}-0-1`;
    const session = await ari.originate({
      channelId: id,
      endpoint: `PJSIP/carrier/sip:8613800000001@127.0.0.1:${TALK_PORT}`,
      timeoutSeconds: 10,
    });
    const answeredAt = await session.answered;
    const recording = await startCallRecording(ari.ari, id, id, { app });
    created.push(id);
    const tone = robotTone(id, answeredAt + 1_500);
    await sleep(Math.max(0, answeredAt + 1_000 - Date.now()));
    const info = await recording.stop();
    expect(session.destroyedInfo).toBeUndefined();
    await tone;
    await ari.hangup(session);
    await session.destroyed;
    const wav = await store.read(id);
    expect(wav).toBeDefined();
    expect(info.name).toBe(id);
    expect(Math.abs(readWavInfo(wav!).durationSeconds - 1)).toBeLessThan(0.5);
  });

  it('the retention sweep keeps recent recordings and deletes those older than RECORDING_RETENTION_DAYS', async () => {
    const deps = { store, calls: api.ports.repos.calls, logger };
    const kept = await sweepRecordings({ ...deps, retentionDays: 1 });
    expect(kept.deleted).toBe(0);
    expect(await store.read(attemptId)).toBeDefined();

    // 0 days, one second later: every recording of an ended call in this test's database goes.
    const swept = await sweepRecordings({ ...deps, retentionDays: 0, clock: () => Date.now() + 1_000 });
    expect(swept.deleted).toBe(1); // the call of the stop() test has no call record: not ours to judge, kept
    expect(swept.failed).toBe(0);
    expect(await store.read(attemptId)).toBeUndefined();
    const call = (await api.ports.repos.calls.get(TENANT, attemptId)) as { recording?: { deletedAt?: Date } } | null;
    expect(call?.recording?.deletedAt).toBeInstanceOf(Date);

    const res = await request(api.app.getHttpServer())
      .get(`/calls/${attemptId}/recording`)
      .set('Authorization', `Bearer ${KEYS.manager}`)
      .expect(410);
    expect((res.body as { detail: string }).detail).toContain('RECORDING_RETENTION_DAYS');
  });
});
