/**
 * The dial activity's exactly-once guarantee, on real servers.
 * Real: Asterisk over ARI (two adapters = two worker processes with their own ARI applications), FerretDB, sipp
 * callees, espeak-ng. The activity runs in @temporalio/testing's MockActivityEnvironment (a real activity Context
 * without a Temporal server), because what is tested is what a retried execution does.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { createLogger } from '../../activities/logger';
import { AriAdapter } from '../../activities/ari/ari-adapter';
import { createMediaActivities, type DoNotCallCheck } from '../../activities/media-activities';
import { openRepositories, type Repositories } from '../../activities/mongo/connection';
import { createScriptSource } from '../../activities/script-source';
import { createEspeakTts } from '../../activities/speech/espeak-tts';
import type { CallingCalendar } from '../../src/calendar';
import type { FrequencyCap } from '../../src/frequency-cap';
import type { PlaceCallInput } from '../../workflows/definitions';
import { TrunkObserver } from '../support/asterisk';
import { servers, testConfig, uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';

const ANSWER_PORT = 5191;
const alwaysOpen: CallingCalendar = {
  timezone: 'UTC',
  workingDays: [1, 2, 3, 4, 5, 6, 7],
  windows: [{ start: '00:00', end: '23:59' }],
  blocked: [],
};
const closedNow = (): CallingCalendar => {
  const hour = new Date().getUTCHours();
  const other = (hour + 12) % 24;
  const hh = String(other).padStart(2, '0');
  return { ...alwaysOpen, windows: [{ start: `${hh}:00`, end: `${hh}:30` }] };
};

const config = testConfig({
  MONGODB_URI: `${servers.mongoBaseUri}/${uniqueName('waihu_dial_')}`,
  TTS_CHROOT: servers.asteriskRoot,
  SIP_DEFAULT_TARGET: `127.0.0.1:${ANSWER_PORT}`,
  RING_TIMEOUT_SECONDS: '6',
});
const logger = createLogger(config.logLevel, 'dial-test');
let repos: Repositories;
let callee: SippCallee;
let trunk: TrunkObserver;
const adapters: AriAdapter[] = [];

async function adapter(): Promise<AriAdapter> {
  const a = await AriAdapter.connect({ ...config.ari, app: uniqueName('dial') }, logger);
  adapters.push(a);
  return a;
}

function activities(
  ari: AriAdapter,
  frequencyCap: FrequencyCap = { perDay: 0, perWeek: 0, timezone: 'UTC' },
  dnc: DoNotCallCheck = repos.dnc,
) {
  return createMediaActivities({
    ari,
    calls: repos.calls,
    scripts: createScriptSource(repos.scripts),
    dialogs: repos.dialogs,
    hostQueue: 'unused: these tests place calls without a script',
    dnc,
    dialCounts: repos.dialCounts,
    frequencyCap: () => Promise.resolve(frequencyCap),
    tts: createEspeakTts(config.tts),
    logger,
    sip: config.sip,
    call: config.call,
    heartbeatMs: 200,
  });
}

const input = (calendar = alwaysOpen, phone = '+8613800000001'): PlaceCallInput => {
  const taskId = uniqueName('t');
  return {
    tenantId: 'tenant-dial',
    taskId,
    contactIndex: 0,
    attempt: 1,
    attemptId: `${taskId}-0-1`,
    phone,
    prompt: '您好，这是一次测试。',
    calendar,
  };
};

beforeAll(async () => {
  repos = await openRepositories(config.mongodbUri);
  callee = await startCallee('answer', ANSWER_PORT);
  trunk = await TrunkObserver.start(config.ari, uniqueName('observer'));
});

afterAll(async () => {
  trunk?.close();
  for (const a of adapters) await a.close();
  await repos?.conn.close();
  stopCallees(callee ? [callee] : []);
});

describe('placeCall (dial activity)', () => {
  it('stores the final record as soon as the call ends; a retried execution returns it and dials nothing', async () => {
    const acts = activities(await adapter());
    const req = input();
    const first = await new MockActivityEnvironment().run(acts.placeCall, req);
    expect(first).toMatchObject({ kind: 'completed', outcome: { code: 'SUCCESS', hangupBy: 'ROBOT' } });
    expect(await repos.calls.get(req.tenantId, req.attemptId)).toMatchObject({ state: 'final', code: 'SUCCESS' });

    const again = await new MockActivityEnvironment().run(acts.placeCall, req);
    expect(again).toEqual(first);
    expect(trunk.channelsCreated(req.attemptId)).toBe(1);
  });

  it('takes over the live channel of a lost execution instead of dialling the attempt again', async () => {
    const lost = await adapter();
    const req = input();
    // A first execution claims the attempt, dials, and its worker dies while the callee is on the line.
    expect(await repos.calls.claim({ ...req, _id: req.attemptId })).toEqual({ claimed: true });
    const session = await lost.originate({
      channelId: req.attemptId,
      endpoint: `PJSIP/carrier/sip:8613800000001@127.0.0.1:${ANSWER_PORT}`,
      timeoutSeconds: 6,
    });
    await session.answered;
    await lost.close();

    const retry = await new MockActivityEnvironment().run(activities(await adapter()).placeCall, req);
    expect(retry).toMatchObject({
      kind: 'completed',
      outcome: { code: 'SUCCESS', hangupBy: 'ROBOT', note: expect.stringMatching(/taken over/) },
    });
    // Asterisk created exactly one channel for this attempt: the original one.
    expect(trunk.channelsCreated(req.attemptId)).toBe(1);
  });

  it('records a claimed attempt whose channel is gone as 呼损 without dialling', async () => {
    const req = input();
    await repos.calls.claim({ ...req, _id: req.attemptId });
    const r = await new MockActivityEnvironment().run(activities(await adapter()).placeCall, req);
    expect(r).toMatchObject({ kind: 'completed', outcome: { code: 'CALL_LOSS', label: '呼损', hangupBy: 'SYSTEM' } });
    expect(trunk.channelsCreated(req.attemptId)).toBe(0);
  });

  it('re-checks the calendar at dial time and dials nothing in a closed period', async () => {
    const req = input(closedNow());
    const r = await new MockActivityEnvironment().run(activities(await adapter()).placeCall, req);
    expect(r).toMatchObject({ kind: 'window-closed', reopensAt: expect.any(String) });
    expect(await repos.calls.get(req.tenantId, req.attemptId)).toBeNull();
    expect(trunk.channelsCreated(req.attemptId)).toBe(0);
  });

  it('defers an attempt over the tenant’s daily frequency cap to the next local day, without dialling it', async () => {
    const cap: FrequencyCap = { perDay: 1, perWeek: 0, timezone: 'Asia/Shanghai' };
    const acts = activities(await adapter(), cap);
    const phone = '+8613800000077';
    const first = input(alwaysOpen, phone);
    expect(await new MockActivityEnvironment().run(acts.placeCall, first)).toMatchObject({ kind: 'completed' });
    const second = input(alwaysOpen, phone); // another task, same number, same day
    const r = await new MockActivityEnvironment().run(acts.placeCall, second);
    expect(r).toMatchObject({ kind: 'deferred', reason: 'FREQUENCY_CAP' });
    const until = DateTime.fromISO((r as { until: string }).until, { zone: 'Asia/Shanghai' });
    expect(until.toFormat('HH:mm')).toBe('00:00');
    expect(until.toMillis()).toBeGreaterThan(Date.now());
    expect(trunk.channelsCreated(second.attemptId)).toBe(0);
    // The claim was given back, so the same attempt can be dialled when the cap allows.
    expect(await repos.calls.get(second.tenantId, second.attemptId)).toBeNull();
  });

  it('never dials a number put on the do-not-call list after the import', async () => {
    const req = input(alwaysOpen, '+8613800000088');
    await repos.dnc.add(req.tenantId, [{ phone: req.phone }]);
    const r = await new MockActivityEnvironment().run(activities(await adapter()).placeCall, req);
    expect(r).toEqual({ kind: 'blocked', reason: 'DO_NOT_CALL' });
    expect(trunk.channelsCreated(req.attemptId)).toBe(0);
    // The DNC read runs beside the claim; the claim is given back.
    expect(await repos.calls.get(req.tenantId, req.attemptId)).toBeNull();
  });

  it('fails cleanly when the do-not-call list cannot be read: no dial, no claim left, the retry dials', async () => {
    const req = input(alwaysOpen, '+8613800000089');
    // A fault injected at the DNC read (a fake DoNotCallCheck that fails once, then asks the real list).
    let failures = 1;
    const flaky: DoNotCallCheck = {
      isListed: (tenantId, phone) =>
        failures-- > 0 ? Promise.reject(new Error('injected DNC read failure')) : repos.dnc.isListed(tenantId, phone),
    };
    const acts = activities(await adapter(), undefined, flaky);
    await expect(new MockActivityEnvironment().run(acts.placeCall, req)).rejects.toThrow('injected DNC read failure');
    expect(trunk.channelsCreated(req.attemptId)).toBe(0);
    expect(await repos.calls.get(req.tenantId, req.attemptId)).toBeNull();
    expect(await new MockActivityEnvironment().run(acts.placeCall, req)).toMatchObject({ kind: 'completed' });
    expect(trunk.channelsCreated(req.attemptId)).toBe(1);
  });
});
