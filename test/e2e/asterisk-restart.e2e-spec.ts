/**
 * The PBX restart drill (issue #5): Asterisk is restarted while a campaign's calls are up. The worker's ARI websocket
 * drops and reconnects; the channels Asterisk forgot are settled as lost, so each call in progress is recorded as
 * 呼损 — not a hung workflow — and the task's retry policy (呼损 selected, 1 minute) redials it; the campaign completes.
 *
 * Real: API, Temporal dev server and workers, FerretDB, Asterisk 22 (really stopped and started by
 * scripts/asterisk.sh), sipp. This test restarts the shared Asterisk; CI runs the suite in band, so nothing else is
 * using it meanwhile.
 */
import type { INestApplication } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { TEMPORAL } from '../../api/common/tokens';
import { contactWorkflowId } from '../../src/ids';
import type { AttemptOutcome } from '../../workflows/definitions';
import { TrunkObserver } from '../support/asterisk';
import { zoneWhereOpenNow } from '../support/calendar';
import { uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { startStack, type Stack } from '../support/stack';
import { until } from '../support/wait';

const run = promisify(execFile);
const KEY = 'restart-drill-manager-key-0123';
const TENANT = uniqueName('tenant');
const SIP_PORT = 5261;
const PHONES = ['+8613500000001', '+8613500000002', '+8613500000003'];
const asterisk = (verb: 'start' | 'stop') =>
  run('bash', [join(__dirname, '..', '..', 'scripts', 'asterisk.sh'), verb], { timeout: 60_000 });

let stack: Stack;
let app: INestApplication;
let callee: SippCallee;
let trunk: TrunkObserver | undefined;

beforeAll(async () => {
  callee = await startCallee('answer', SIP_PORT);
  stack = await startStack('restart', {
    API_KEYS: `${KEY}:${TENANT}:manager|supervisor`,
    SIP_ROUTES: PHONES.map((p) => `${p}=127.0.0.1:${SIP_PORT}`).join(','),
  });
  app = stack.app;
}, 180_000);

afterAll(async () => {
  trunk?.close();
  await asterisk('start'); // whatever happened, leave Asterisk running for the rest of the suite
  await stack?.close();
  stopCallees(callee ? [callee] : []);
});

const as = { Authorization: `Bearer ${KEY}` };
const http = () => request(app.getHttpServer());

describe('Asterisk restarts mid-campaign', () => {
  it('turns the calls in progress into 呼损, redials them, and completes the campaign', async () => {
    trunk = await TrunkObserver.start(stack.config.ari, uniqueName('restartobs'));
    const created = await http()
      .post('/tasks')
      .set(as)
      .field(
        'definition',
        JSON.stringify({
          name: '重启演练',
          workingDays: [1, 2, 3, 4, 5, 6, 7],
          workingWindows: [{ start: '00:00', end: '23:59' }],
          timezone: zoneWhereOpenNow(),
          aiSeats: 3,
          retry: { reasons: ['CALL_LOSS'], maxRetries: 1, intervalMinutes: 1 },
        }),
      )
      .attach('file', Buffer.from(['用户号码', ...PHONES].join('\n'), 'utf8'), 'list.csv');
    expect(created.status).toBe(201);
    const taskId = created.body.id as string;

    // All three calls are answered and the robot is speaking: restart Asterisk under them.
    const first = trunk;
    await until(() => first.scope(`${taskId}-`).active === 3, 'three calls up', 30_000);
    await new Promise((r) => setTimeout(r, 1_500));
    await asterisk('stop');
    await asterisk('start');

    await until(
      async () => (await http().get(`/tasks/${taskId}`).set(as)).body.status === 'COMPLETED',
      'the campaign to complete after the restart',
      150_000,
      1000,
    );
    const rows = (await http().get(`/tasks/${taskId}/details`).set(as)).body.items as Record<string, unknown>[];
    // Every contact: the lost attempt, then a redial that went through.
    expect(rows.map((r) => [r.attempts, r.resultLabel])).toEqual(PHONES.map(() => [2, '呼叫成功']));

    // The first attempt of each contact was recorded as 呼损, ended by the system, with the loss noted.
    const temporal = app.get<Client>(TEMPORAL);
    for (let i = 0; i < PHONES.length; i++) {
      const history = await temporal.workflow.getHandle(contactWorkflowId(taskId, i)).fetchHistory();
      const recorded = (history.events ?? [])
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'recordAttempt')
        .map((e) => {
          const payload = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0];
          return payload
            ? defaultPayloadConverter.fromPayload<{ outcome: AttemptOutcome }>(payload).outcome
            : undefined;
        });
      expect(recorded.map((o) => [o?.attempt, o?.label, o?.hangupBy])).toEqual([
        [1, '呼损', 'SYSTEM'],
        [2, '呼叫成功', 'ROBOT'],
      ]);
      expect(recorded[0]?.note).toMatch(/lost/);
      expect(recorded[0]?.answeredAt).toBeDefined();
    }
  }, 240_000);
});
