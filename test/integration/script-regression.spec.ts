/**
 * The script regression check (CheckScriptRegression) through the HTTP API: dialogs recorded on version 1 replayed
 * through version 2, which swaps the intents of the demo's 满意 / 不满意 branches.
 * Real: the NestJS app (in process, over HTTP via supertest) and FerretDB. The dialog records are written through
 * DialogRepository.save from turns the real engine produced (the text console, src/script/console.ts) — what the call
 * workflow records, without placing calls. Temporal and Asterisk are not contacted.
 */
import { scriptVersionId, type ScriptVersionStatus } from '../../activities/mongo/script-repository';
import { chat, type ConsoleInput } from '../../src/script/console';
import { demoScript } from '../../src/script/demo';
import type { Script } from '../../src/script/model';
import { apiTestApp, type ApiTestApp } from '../support/api-app';
import { uniqueName } from '../support/servers';

const MANAGER = 'regression-manager-key-01234567';
const AUDITOR = 'regression-auditor-key-01234567';
const OTHER = 'regression-other-tenant-key-0123';
const TENANT = uniqueName('tenant');
const OTHER_TENANT = uniqueName('other');
const SCRIPT_ID = uniqueName('script-');

let api: ApiTestApp;

beforeAll(async () => {
  api = await apiTestApp('regression', {
    env: {
      API_KEYS: [
        `${MANAGER}:${TENANT}:manager`,
        `${AUDITOR}:${TENANT}:auditor`,
        `${OTHER}:${OTHER_TENANT}:manager`,
      ].join(','),
    },
  });
}, 60_000);

afterAll(() => api?.close());

const http = () => api.http();
const auth = (key = MANAGER) => ({ Authorization: `Bearer ${key}` });

const KEYS: ConsoleInput[] = [{ key: '1' }, { key: '9' }, { key: '2' }, { key: '1' }];
const WORDS: ConsoleInput[] = ['是的', '我想退货', '怎么退款啊', '我在开车'];

/** Version 2: the 满意 branch now takes the 不满意 intent and the other way round. */
function swapped(): Script {
  const script = demoScript();
  const rate = script.flows[1]!.nodes.find((n) => n.id === 'rate');
  if (rate?.kind !== 'normal') throw new Error('demo changed');
  rate.branches.find((b) => b.id === 'sat')!.intentIds = ['demo.unsatisfied'];
  rate.branches.find((b) => b.id === 'unsat')!.intentIds = ['demo.satisfied'];
  return script;
}

async function putVersion(tenantId: string, version: number, status: ScriptVersionStatus, script: Script) {
  await api.ports.repos.scripts.putVersion({
    _id: scriptVersionId(SCRIPT_ID, version),
    tenantId,
    scriptId: SCRIPT_ID,
    version,
    status,
    script: { ...script, id: SCRIPT_ID },
    dubbing: {},
  });
}

/** A dialog as the call workflow records it: the engine's turns of a conversation, at real instants 3 s apart. */
async function recordCall(
  tenantId: string,
  attemptId: string,
  version: number,
  script: Script,
  inputs: ConsoleInput[],
) {
  const r = chat(script, {}, inputs, { startMs: Date.now(), stepMs: 3000 });
  await api.ports.repos.dialogs.save({
    _id: attemptId,
    tenantId,
    taskId: 'task-1',
    contactIndex: 0,
    attempt: 1,
    script: { scriptId: SCRIPT_ID, version },
    turns: r.turns,
    tags: r.state.tags,
    end: { kind: r.end?.kind ?? 'calleeHangup', reason: r.state.end?.reason },
  });
}

const route = (version: number, query = '') => `/scripts/${SCRIPT_ID}/versions/${version}/regression${query}`;

describe('CheckScriptRegression', () => {
  beforeAll(async () => {
    await putVersion(TENANT, 1, 'approved', demoScript());
    await putVersion(TENANT, 2, 'submitted', swapped());
    await recordCall(TENANT, uniqueName('att-keys-'), 1, demoScript(), KEYS);
    await recordCall(TENANT, uniqueName('att-words-'), 1, demoScript(), WORDS);
    // Not replayed: another version's call, and another tenant's call of the same script id.
    await recordCall(TENANT, uniqueName('att-v2-'), 2, swapped(), KEYS);
    await recordCall(OTHER_TENANT, uniqueName('att-other-'), 1, demoScript(), KEYS);
  });

  it('reports the first turn each recorded call of the approved version would now take differently', async () => {
    const res = await http().get(route(2)).set(auth());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      scriptId: SCRIPT_ID,
      version: 2,
      against: 1,
      calls: 2,
      same: 1,
      different: 1,
      notReplayable: 0,
      variablesCompared: false,
    });
    const [first, second] = res.body.results;
    expect(first).toMatchObject({
      attemptId: expect.stringMatching(/^att-keys-/),
      taskId: 'task-1',
      status: 'different',
      turns: 5,
      first: {
        seq: 5,
        field: 'branchId',
        before: 'sat',
        after: 'unsat',
        heard: { input: 'dtmf', calleeKey: '1' },
        node: { scope: 'main', flowId: 'f.survey', nodeId: 'rate' },
      },
    });
    // The words walk never reaches the changed branches.
    expect(second).toMatchObject({ attemptId: expect.stringMatching(/^att-words-/), status: 'same', turns: 5 });
  });

  it('takes `against` and `limit`, and lets an auditor read', async () => {
    const res = await http().get(route(2, '?against=1&limit=1')).set(auth(AUDITOR));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ against: 1, calls: 1 });
    // Either direction: version 2's call replayed through version 1 differs at the same turn, the other way round.
    const back = await http().get(route(1, '?against=2')).set(auth());
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ version: 1, against: 2, calls: 1, different: 1 });
    expect(back.body.results[0].first).toMatchObject({ seq: 5, field: 'branchId', before: 'unsat', after: 'sat' });
  });

  it('answers problems naming the field, and 404 for other tenants', async () => {
    const none = await http().get(route(1)).set(auth());
    expect(none.status).toBe(422);
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(none.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'against' })]));
    const bad = await http().get(route(2, '?limit=0')).set(auth());
    expect(bad.status).toBe(400);
    expect((await http().get(route(3)).set(auth())).status).toBe(404);
    expect((await http().get(route(2, '?against=7')).set(auth())).status).toBe(404);
    expect((await http().get(route(2)).set(auth(OTHER))).status).toBe(404);
  });
});
