/**
 * Robot scripts through the HTTP API: CRUD of the draft, the five invalid scripts of issue #6, review and versions,
 * dubbing (espeak-ng TTS and uploaded wav/mp3 recordings, converted by sox), the text console, tenants and roles.
 * Real: the NestJS app (in process, over HTTP via supertest), FerretDB, and espeak-ng / sox inside the Asterisk
 * chroot (the files land in the chroot's sounds directory, where Asterisk plays them). Temporal is not contacted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { scriptVersionId, utteranceMedia } from '../../activities/mongo/script-repository';
import { demoScript } from '../../src/script/demo';
import type { Script } from '../../src/script/model';
import { apiTestApp, type ApiTestApp } from '../support/api-app';
import { servers, uniqueName } from '../support/servers';

const MANAGER = 'scripts-manager-key-0123456789';
const SUPERVISOR = 'scripts-supervisor-key-01234567';
const AUDITOR = 'scripts-auditor-key-0123456789';
const OTHER = 'scripts-other-tenant-key-012345';
const TENANT = uniqueName('tenant');
const OTHER_TENANT = uniqueName('other');
const SOUNDS = '/usr/share/asterisk/sounds/custom/waihu';

let api: ApiTestApp;

beforeAll(async () => {
  api = await apiTestApp('scripts', {
    env: {
      API_KEYS: [
        `${MANAGER}:${TENANT}:manager`,
        `${SUPERVISOR}:${TENANT}:supervisor`,
        `${AUDITOR}:${TENANT}:auditor`,
        `${OTHER}:${OTHER_TENANT}:manager|supervisor`,
      ].join(','),
      TTS_CHROOT: servers.asteriskRoot,
      TTS_SOUNDS_DIR: SOUNDS,
    },
  });
}, 60_000);

afterAll(() => api?.close());

const auth = (key = MANAGER) => ({ Authorization: `Bearer ${key}` });
const http = () => api.http();
const vars = { custName: '张三', shopName: '小米商城' };

type Content = Pick<Script, 'flows' | 'intents' | 'kbEntries' | 'kbFlows' | 'globalConfig'>;
/** The demo script's content, to be changed per test. */
function demoContent(): Content {
  const { flows, intents, kbEntries, kbFlows, globalConfig } = demoScript();
  return { flows, intents, kbEntries, kbFlows, globalConfig };
}
const basics = { name: '售后满意度回访', industry: '电商', scene: '售后回访', remarks: '演示' };

async function createScript(content: Content = demoContent(), key = MANAGER): Promise<string> {
  const res = await http()
    .post('/scripts')
    .set(auth(key))
    .send({ ...basics, script: content });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** Synthesise every unvoiced utterance and submit the draft. */
async function voiceAndSubmit(id: string) {
  const tts = await http().post(`/scripts/${id}/dubbing/tts`).set(auth()).send({});
  expect(tts.status).toBe(200);
  expect(tts.body.failed).toBeUndefined();
  expect(tts.body.counts.notRecorded).toBe(0);
  return http().post(`/scripts/${id}/submit`).set(auth());
}

/** The chroot path of a `sound:custom/waihu/x` media URI. */
const fileOf = (media: string) =>
  join(servers.asteriskRoot, '/usr/share/asterisk/sounds', `${media.replace(/^sound:/, '')}.wav`);

/** Format of a WAV file, read from its chunks. */
function wavInfo(path: string) {
  const b = readFileSync(path);
  expect(b.toString('latin1', 0, 4)).toBe('RIFF');
  expect(b.toString('latin1', 8, 12)).toBe('WAVE');
  for (let at = 12; at + 8 <= b.length;) {
    const id = b.toString('latin1', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    if (id === 'fmt ') {
      return {
        format: b.readUInt16LE(at + 8),
        channels: b.readUInt16LE(at + 10),
        rate: b.readUInt32LE(at + 12),
        bits: b.readUInt16LE(at + 22),
        bytes: b.length,
      };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error(`no fmt chunk in ${path}`);
}

/** Make an audio file inside the chroot with espeak-ng (and sox for other formats); returns its bytes. */
function makeAudio(text: string, ext: 'wav' | 'mp3'): Buffer {
  const base = `/tmp/${uniqueName('upload-')}`;
  const cmd =
    ext === 'wav'
      ? `espeak-ng -v cmn -w ${base}.wav -- '${text}'`
      : `espeak-ng -v cmn -w ${base}.wav -- '${text}' && sox ${base}.wav ${base}.mp3`;
  execFileSync('chroot', [servers.asteriskRoot, 'sh', '-c', cmd], { timeout: 30_000 });
  const hostBase = join(servers.asteriskRoot, base);
  try {
    return readFileSync(`${hostBase}.${ext}`);
  } finally {
    rmSync(`${hostBase}.wav`, { force: true });
    rmSync(`${hostBase}.mp3`, { force: true });
  }
}

const intentIndex = (c: Content, id: string) => c.intents.findIndex((i) => i.id === id);

describe('scripts: create, read, edit', () => {
  it('creates a script as draft version 1, lists, gets and edits it in place', async () => {
    const res = await http()
      .post('/scripts')
      .set(auth())
      .send({ ...basics, script: demoContent() });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: '售后满意度回访',
      sceneClass: 'followUp',
      draftVersion: 1,
      latestVersion: 1,
      latestStatus: 'draft',
      current: { version: 1, status: 'draft', script: { id: res.body.id, name: '售后满意度回访' } },
    });
    expect(res.body.current.script.flows).toHaveLength(2);
    expect(res.body.current.report.ok).toBe(true);
    const id = res.body.id as string;

    const list = await http().get('/scripts?name=满意度').set(auth(AUDITOR));
    expect(list.status).toBe(200);
    expect(list.body.items.map((s: { id: string }) => s.id)).toContain(id);
    const get = await http().get(`/scripts/${id}`).set(auth(SUPERVISOR));
    expect(get.body.current.script.flows[0].id).toBe('f.open');

    const edit = await http().put(`/scripts/${id}/draft`).set(auth()).send({ name: '回访话术二', remarks: '改名' });
    expect(edit.status).toBe(200);
    expect(edit.body).toMatchObject({ name: '回访话术二', draftVersion: 1, latestVersion: 1 });
    expect(edit.body.current.script).toMatchObject({ name: '回访话术二', remarks: '改名' });
    // The versions are stored by exact _id.
    const stored = await api.ports.repos.conn
      .db!.collection('script_versions')
      .findOne({ _id: scriptVersionId(id, 1) as never });
    expect(stored).toMatchObject({ tenantId: TENANT, scriptId: id, version: 1, status: 'draft' });
  });

  it('starts a script without content from the presets', async () => {
    const res = await http()
      .post('/scripts')
      .set(auth())
      .send({ name: '空白话术', industry: '教育', scene: '课程推广' });
    expect(res.status).toBe(201);
    expect(res.body.sceneClass).toBe('marketing');
    expect(res.body.current.script.kbEntries).toHaveLength(6);
    expect(res.body.current.script.globalConfig.maxDuration).toEqual({ enabled: true, seconds: 1800 });
    // A script with no flow is a draft that cannot be submitted; 教育 is refused in a marketing scene.
    const report = await http().post(`/scripts/${res.body.id}/validate`).set(auth()).send({});
    expect(report.status).toBe(200);
    expect(report.body.ok).toBe(false);
    expect(report.body.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: '', field: 'flows', rule: 'completeness' })]),
    );
  });

  it('refuses what is not a script, naming the field', async () => {
    const content = demoContent() as unknown as { flows: { nodes: Record<string, unknown>[] }[] };
    content.flows[0]!.nodes[1]!.kind = 'teleport';
    const res = await http()
      .post('/scripts')
      .set(auth())
      .send({ ...basics, script: content });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.errors[0].field).toBe('script.flows[0].nodes[1].kind');
    const long = await http()
      .post('/scripts')
      .set(auth())
      .send({ ...basics, name: '话'.repeat(31) });
    expect(long.status).toBe(400);
    expect(long.body.errors[0].field).toBe('name');
  });
});

describe('scripts: the five invalid scripts are refused with the node and the field named', () => {
  it('a dangling branch: saved as an unfinished draft, refused on submission', async () => {
    const content = demoContent();
    content.flows[0]!.edges = content.flows[0]!.edges.filter((e) => e.branchId !== 'refuse');
    const id = await createScript(content);
    const draft = await http().get(`/scripts/${id}`).set(auth());
    expect(draft.body.current.report.warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ flowId: 'f.open', nodeId: 'greet', field: 'branches[2]', rule: 'completeness' }),
      ]),
    );
    expect(draft.body.current.report.flows).toContainEqual({ scope: 'main', flowId: 'f.open', complete: false });
    const submit = await voiceAndSubmit(id);
    expect(submit.status).toBe(422);
    expect(submit.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: 'script.flows[0].nodes[0].branches[2]',
          flowId: 'f.open',
          nodeId: 'greet',
          reason: 'the lit branch is not connected to a node',
        }),
      ]),
    );
  });

  it('a bad regular expression: refused on save', async () => {
    const content = demoContent();
    const i = intentIndex(content, 'demo.unsatisfied');
    content.intents[i]!.keywords = ['不满意(', '太差'];
    const res = await http()
      .post('/scripts')
      .set(auth())
      .send({ ...basics, script: content });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        field: `script.intents[${i}].keywords[0]`,
        intentId: 'demo.unsatisfied',
        value: '不满意(',
        reason: expect.stringContaining('not a valid RE2 regular expression'),
      }),
    ]);
  });

  it('a catastrophic regular expression: refused on save', async () => {
    const id = await createScript();
    const content = demoContent();
    const entry = content.kbEntries.findIndex((e) => e.id === 'demo.kb.return');
    content.kbEntries[entry]!.keywords = ['(退+)+款'];
    const res = await http().put(`/scripts/${id}/draft`).set(auth()).send({ script: content });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        field: `script.kbEntries[${entry}].keywords[0]`,
        kbEntryId: 'demo.kb.return',
        value: '(退+)+款',
        reason: expect.stringContaining('nested repetition'),
      }),
    ]);
  });

  it('a bad variable name: refused on save', async () => {
    const content = demoContent();
    content.flows[1]!.nodes[0]!.utterances[1]!.text = '${1st_name}您好,您对这次购物满意吗?';
    const res = await http()
      .post('/scripts')
      .set(auth())
      .send({ ...basics, script: content });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        field: 'script.flows[1].nodes[0].utterances[1].text',
        flowId: 'f.survey',
        nodeId: 'rate',
        value: '1st_name',
      }),
    ]);
    // Reserved names too (§9).
    content.flows[1]!.nodes[0]!.utterances[1]!.text = '您好,您的手机号${mobile}的订单满意吗?';
    const reserved = await http()
      .post('/scripts')
      .set(auth())
      .send({ ...basics, script: content });
    expect(reserved.status).toBe(422);
    expect(reserved.body.errors[0]).toMatchObject({ nodeId: 'rate', value: 'mobile' });
  });

  it('a forbidden word: a warning on save, refused on submission', async () => {
    const content = demoContent();
    content.flows[1]!.nodes[3]!.utterances[0]!.text = '感谢您的支持,回复参加抽奖活动,再见!';
    const id = await createScript(content);
    const draft = await http().get(`/scripts/${id}`).set(auth());
    expect(draft.body.current.report.warnings).toEqual(
      expect.arrayContaining([expect.objectContaining({ nodeId: 'thanks', rule: 'content', value: '抽奖' })]),
    );
    const validate = await http().post(`/scripts/${id}/validate?stage=save`).set(auth()).send({});
    expect(validate.body.ok).toBe(true);
    const submit = await voiceAndSubmit(id);
    expect(submit.status).toBe(422);
    expect(submit.body.errors).toEqual([
      expect.objectContaining({
        field: 'script.flows[1].nodes[3].utterances[0].text',
        flowId: 'f.survey',
        nodeId: 'thanks',
        rule: 'content',
        value: '抽奖',
      }),
    ]);
  });
});

describe('scripts: dubbing', () => {
  let id: string;
  beforeAll(async () => {
    id = await createScript();
  });

  it('lists every utterance with its status; utterances with variables need no recording', async () => {
    const res = await http().get(`/scripts/${id}/dubbing`).set(auth(AUDITOR));
    expect(res.status).toBe(200);
    const row = (u: string) => res.body.rows.find((r: { utteranceId: string }) => r.utteranceId === u);
    expect(row('greet.1')).toMatchObject({ kind: 'main', status: 'notNeeded', required: false });
    expect(row('toSurvey.1')).toMatchObject({ kind: 'main', status: 'notRecorded', required: true });
    expect(row('preset.kb.driving.1')).toMatchObject({ kind: 'kb', status: 'notRecorded', required: true });
    // The 无回复 module is disabled by default: its utterances are listed, not required.
    expect(row('global.noReply.1')).toMatchObject({ kind: 'global', required: false });
    expect(row('global.unrecognized.1')).toMatchObject({ kind: 'global', required: true });
    expect(res.body.counts.notNeeded).toBe(2);
  });

  it('refuses submission while a required utterance is unvoiced, naming it', async () => {
    const res = await http().post(`/scripts/${id}/submit`).set(auth());
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: 'script.flows[0].nodes[1].utterances[0]',
          nodeId: 'toSurvey',
          value: 'toSurvey.1',
          reason: expect.stringContaining('not voiced'),
        }),
      ]),
    );
    expect(res.body.errors.map((e: { value: string }) => e.value)).not.toContain('greet.1');
  });

  it('synthesises an utterance with voice type, speed and volume into an 8 kHz WAV in the sounds directory', async () => {
    const male = await http()
      .post(`/scripts/${id}/dubbing/tts`)
      .set(auth())
      .send({ utteranceIds: ['toSurvey.1'], voiceType: 'male', speed: 'fast', volume: 80 });
    expect(male.status).toBe(200);
    const row = male.body.rows.find((r: { utteranceId: string }) => r.utteranceId === 'toSurvey.1');
    expect(row).toMatchObject({
      status: 'recorded',
      playback: 'tts',
      voice: { voiceType: 'male', speed: 'fast', volume: 80 },
      media: expect.stringMatching(/^sound:custom\/waihu\/tts-[0-9a-f]{24}$/),
    });
    expect(existsSync(fileOf(row.media))).toBe(true);
    expect(wavInfo(fileOf(row.media))).toMatchObject({ format: 1, channels: 1, rate: 8000, bits: 16 });
    // Other settings are another file (the cache key includes them).
    const female = await http()
      .post(`/scripts/${id}/dubbing/tts`)
      .set(auth())
      .send({ utteranceIds: ['toSurvey.1'] });
    const femaleRow = female.body.rows.find((r: { utteranceId: string }) => r.utteranceId === 'toSurvey.1');
    expect(femaleRow.voice).toEqual({ voiceType: 'female', speed: 'normal', volume: 50 });
    expect(femaleRow.media).not.toBe(row.media);
    expect(wavInfo(fileOf(femaleRow.media)).rate).toBe(8000);
    // 快 is faster than 正常: the same sentence is shorter.
    expect(wavInfo(fileOf(row.media)).bytes).toBeLessThan(wavInfo(fileOf(femaleRow.media)).bytes);
    // An utterance with variables is synthesised at call time, not here.
    const vars = await http()
      .post(`/scripts/${id}/dubbing/tts`)
      .set(auth())
      .send({ utteranceIds: ['greet.1'] });
    expect(vars.status).toBe(422);
    expect(vars.body.errors[0]).toMatchObject({ field: 'utteranceIds[0]', value: 'greet.1' });
  });

  it('converts an uploaded wav and mp3 for Asterisk, and refuses what is neither', async () => {
    const wav = makeAudio('感谢您的支持', 'wav');
    const up = await http()
      .put(`/scripts/${id}/dubbing/thanks.1/recording`)
      .set(auth())
      .attach('file', wav, 'thanks.wav');
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({
      utteranceId: 'thanks.1',
      status: 'recorded',
      playback: 'upload',
      media: expect.stringMatching(/^sound:custom\/waihu\/rec-[0-9a-f]{24}$/),
    });
    expect(up.body.seconds).toBeGreaterThan(0.3);
    expect(wavInfo(fileOf(up.body.media))).toMatchObject({ channels: 1, rate: 8000, bits: 16 });

    const mp3 = makeAudio('您的意见已经记录', 'mp3');
    expect(mp3.subarray(0, 3).toString('latin1') === 'ID3' || mp3[0] === 0xff).toBe(true);
    const upMp3 = await http()
      .put(`/scripts/${id}/dubbing/sorry.1/recording`)
      .set(auth())
      .attach('file', mp3, 'sorry.mp3');
    expect(upMp3.status).toBe(200);
    expect(wavInfo(fileOf(upMp3.body.media))).toMatchObject({ channels: 1, rate: 8000, bits: 16 });

    const junk = await http()
      .put(`/scripts/${id}/dubbing/sorry.1/recording`)
      .set(auth())
      .attach('file', Buffer.from('not audio at all'), 'x.wav');
    expect(junk.status).toBe(422);
    expect(junk.body.errors[0]).toMatchObject({ field: 'file', reason: 'not a wav or mp3 file' });
    const truncated = await http()
      .put(`/scripts/${id}/dubbing/sorry.1/recording`)
      .set(auth())
      .attach('file', Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE'), Buffer.alloc(20)]), 'x.wav');
    expect(truncated.status).toBe(422);
    expect(truncated.body.errors[0].field).toBe('file');
    const withVars = await http()
      .put(`/scripts/${id}/dubbing/greet.1/recording`)
      .set(auth())
      .attach('file', wav, 'greet.wav');
    expect(withVars.status).toBe(422);
    const auditor = await http()
      .put(`/scripts/${id}/dubbing/thanks.1/recording`)
      .set(auth(AUDITOR))
      .attach('file', wav, 'thanks.wav');
    expect(auditor.status).toBe(403);
  });
});

describe('scripts: review and versions', () => {
  it('draft → submitted → approved; editing makes a new draft, the approved version stays pinned; reject with a reason', async () => {
    const id = await createScript();
    const submitted = await voiceAndSubmit(id);
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ version: 1, status: 'submitted' });
    expect((await http().get(`/scripts/${id}`).set(auth())).body).toMatchObject({ latestStatus: 'submitted' });
    expect((await http().get(`/scripts/${id}`).set(auth())).body.draftVersion).toBeUndefined();
    // Nothing left to submit; a manager does not review.
    expect((await http().post(`/scripts/${id}/submit`).set(auth())).status).toBe(409);
    expect((await http().post(`/scripts/${id}/versions/1/approve`).set(auth())).status).toBe(403);

    const approved = await http().post(`/scripts/${id}/versions/1/approve`).set(auth(SUPERVISOR));
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ version: 1, status: 'approved' });
    expect((await http().get(`/scripts/${id}`).set(auth())).body).toMatchObject({
      latestApproved: 1,
      latestStatus: 'approved',
    });
    expect((await http().post(`/scripts/${id}/versions/1/approve`).set(auth(SUPERVISOR))).status).toBe(409);
    // Nothing left to voice: no new draft is made.
    const noop = await http().post(`/scripts/${id}/dubbing/tts`).set(auth()).send({});
    expect(noop.body).toMatchObject({ version: 1, counts: { notRecorded: 0 } });
    expect((await http().get(`/scripts/${id}`).set(auth())).body.draftVersion).toBeUndefined();

    // What the call side reads: one exact-_id version, the latest approved one, media per utterance.
    const repo = api.ports.repos.scripts;
    const v1 = await repo.latestApproved(TENANT, id);
    expect(v1).toMatchObject({ _id: `${id}@1`, version: 1, status: 'approved' });
    expect(utteranceMedia(v1!, 'toSurvey.1')).toMatch(/^sound:custom\/waihu\/tts-/);
    expect(utteranceMedia(v1!, 'greet.1')).toBeUndefined();
    expect(await repo.getVersion(OTHER_TENANT, id, 1)).toBeUndefined();
    expect(await repo.latestApproved(OTHER_TENANT, id)).toBeUndefined();

    // Editing the approved script makes draft 2; version 1 is untouched.
    const content = demoContent();
    content.flows[1]!.nodes[3]!.utterances[0]!.text = '感谢您的支持,祝您生活愉快!';
    const edit = await http().put(`/scripts/${id}/draft`).set(auth()).send({ script: content });
    expect(edit.status).toBe(200);
    expect(edit.body).toMatchObject({ draftVersion: 2, latestVersion: 2, latestApproved: 1, latestStatus: 'draft' });
    expect(edit.body.current).toMatchObject({ version: 2, status: 'draft', basedOn: 1 });
    // Audio of unchanged texts carries over; the changed one must be voiced again.
    expect(edit.body.current.dubbing['toSurvey.1'].status).toBe('recorded');
    expect(edit.body.current.dubbing['thanks.1'].status).toBe('notRecorded');
    const pinned = await http().get(`/scripts/${id}/versions/1`).set(auth(AUDITOR));
    expect(pinned.body).toMatchObject({ status: 'approved' });
    expect(pinned.body.script.flows[1].nodes[3].utterances[0].text).toBe('感谢您的支持,祝您生活愉快,再见!');
    expect((await repo.latestApproved(TENANT, id))!.version).toBe(1);
    // A second edit changes draft 2 in place.
    const again = await http().put(`/scripts/${id}/draft`).set(auth()).send({ remarks: '第二稿' });
    expect(again.body).toMatchObject({ draftVersion: 2, latestVersion: 2 });

    // Submit 2 and reject it with a reason.
    expect((await voiceAndSubmit(id)).status).toBe(200);
    const noReason = await http().post(`/scripts/${id}/versions/2/reject`).set(auth(SUPERVISOR)).send({});
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors[0].field).toBe('reason');
    const rejected = await http()
      .post(`/scripts/${id}/versions/2/reject`)
      .set(auth(SUPERVISOR))
      .send({ reason: '结束语缺少再见' });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ version: 2, status: 'rejected', rejectReason: '结束语缺少再见' });
    expect((await http().post(`/scripts/${id}/versions/2/approve`).set(auth(SUPERVISOR))).status).toBe(409);
    expect((await repo.latestApproved(TENANT, id))!.version).toBe(1);

    // Editing a rejected version makes draft 3.
    const third = await http().put(`/scripts/${id}/draft`).set(auth()).send({ remarks: '第三稿' });
    expect(third.body).toMatchObject({ draftVersion: 3, latestStatus: 'draft', latestApproved: 1 });
    const versions = await http().get(`/scripts/${id}/versions`).set(auth(AUDITOR));
    expect(versions.body.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [3, 'draft'],
      [2, 'rejected'],
      [1, 'approved'],
    ]);
    expect(versions.body[1].rejectReason).toBe('结束语缺少再见');
    expect(versions.body[0].script).toBeUndefined();
  });
});

describe('scripts: text console', () => {
  it('walks the demo script over HTTP, the session kept in MongoDB by _id', async () => {
    const id = await createScript();
    const start = await http().post(`/scripts/${id}/console-sessions`).set(auth()).send({ variables: vars });
    expect(start.status).toBe(201);
    expect(start.body.version).toBe(1);
    expect(start.body.robot).toEqual(['您好,请问您是张三吗?这里是小米商城的售后客服。是本人请按1,不是请按2。']);
    const sid = start.body.sessionId as string;

    const one = await http().post(`/scripts/console-sessions/${sid}/turns`).set(auth()).send({ key: '1' });
    expect(one.status).toBe(200);
    expect(one.body.robot).toEqual([
      '好的,耽误您一分钟时间。',
      '请问您对这次购买的商品和服务满意吗?满意请按1,不满意请按2。',
    ]);
    expect(one.body.turns[0]).toMatchObject({ input: 'dtmf', calleeKey: '1', branchType: 'AFFIRM' });

    const kb = await http().post(`/scripts/console-sessions/${sid}/turns`).set(auth()).send({ text: '我想退货' });
    expect(kb.body.robot).toEqual(['支持七天无理由退货,您在订单页申请售后就可以。']);
    expect(kb.body.turns[0]).toMatchObject({ kbEntryId: 'demo.kb.return' });

    const end = await http().post(`/scripts/console-sessions/${sid}/turns`).set(auth()).send({ text: '挺满意的' });
    expect(end.body).toMatchObject({
      robot: ['感谢您的支持,祝您生活愉快,再见!'],
      ended: true,
      end: { kind: 'hangup', tags: ['本人', '满意'] },
    });
    const after = await http().post(`/scripts/console-sessions/${sid}/turns`).set(auth()).send({ text: '喂' });
    expect(after.status).toBe(409);

    const stored = await api.ports.repos.conn.db!.collection('console_sessions').findOne({ _id: sid as never });
    expect(stored).toMatchObject({ tenantId: TENANT, scriptId: id, version: 1, ended: true });
    expect(stored!.inputs).toEqual([{ key: '1' }, { text: '我想退货' }, { text: '挺满意的' }]);
    const transcript = await http().get(`/scripts/console-sessions/${sid}`).set(auth(SUPERVISOR));
    expect(transcript.body.transcript.at(-1)).toBe('[挂机 jumpNode 标签: 本人,满意]');
    expect(transcript.body.turns).toHaveLength(4);

    // One input per turn; other tenants and auditors do not see the session.
    const start2 = await http().post(`/scripts/${id}/console-sessions`).set(auth()).send({ variables: vars });
    const two = await http()
      .post(`/scripts/console-sessions/${start2.body.sessionId}/turns`)
      .set(auth())
      .send({ key: '1', text: '是' });
    expect(two.status).toBe(422);
    expect((await http().get(`/scripts/console-sessions/${sid}`).set(auth(OTHER))).status).toBe(404);
    expect((await http().post(`/scripts/${id}/console-sessions`).set(auth(AUDITOR)).send({})).status).toBe(403);
    const badVar = await http()
      .post(`/scripts/${id}/console-sessions`)
      .set(auth())
      .send({ variables: { custName: 'http://spam.example' } });
    expect(badVar.status).toBe(422);
    expect(badVar.body.errors[0].field).toBe('variables.custName');
  });
});

describe('scripts: tenants and roles', () => {
  it('another tenant sees none of it; auditors only read', async () => {
    const id = await createScript();
    expect((await http().get(`/scripts/${id}`).set(auth(OTHER))).status).toBe(404);
    expect((await http().get(`/scripts/${id}/versions/1`).set(auth(OTHER))).status).toBe(404);
    expect((await http().get(`/scripts/${id}/dubbing`).set(auth(OTHER))).status).toBe(404);
    expect((await http().put(`/scripts/${id}/draft`).set(auth(OTHER)).send({ remarks: 'x' })).status).toBe(404);
    expect((await http().post(`/scripts/${id}/submit`).set(auth(OTHER))).status).toBe(404);
    expect((await http().post(`/scripts/${id}/versions/1/approve`).set(auth(OTHER))).status).toBe(404);
    expect((await http().post(`/scripts/${id}/console-sessions`).set(auth(OTHER)).send({})).status).toBe(404);
    const others = await http().get('/scripts').set(auth(OTHER));
    expect(others.body.items.map((s: { id: string }) => s.id)).not.toContain(id);

    expect((await http().post('/scripts').set(auth(AUDITOR)).send(basics)).status).toBe(403);
    expect((await http().put(`/scripts/${id}/draft`).set(auth(AUDITOR)).send({ remarks: 'x' })).status).toBe(403);
    expect((await http().post(`/scripts/${id}/dubbing/tts`).set(auth(AUDITOR)).send({})).status).toBe(403);
    expect((await http().post(`/scripts/${id}/submit`).set(auth(SUPERVISOR))).status).toBe(403);
    expect((await http().get(`/scripts/${id}/versions`).set(auth(AUDITOR))).status).toBe(200);
    expect((await http().get('/scripts')).status).toBe(401);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = await http().get('/docs/openapi.json');
    const ops = Object.values(doc.body.paths as Record<string, Record<string, { operationId?: string }>>).flatMap((p) =>
      Object.values(p).map((o) => o.operationId),
    );
    expect(ops).toEqual(
      expect.arrayContaining([
        'CreateScript',
        'ListScript',
        'GetScript',
        'UpdateScriptDraft',
        'ValidateScript',
        'SubmitScript',
        'ApproveScript',
        'RejectScript',
        'ListScriptVersions',
        'GetScriptVersion',
        'ListScriptDubbing',
        'SynthesizeScriptDubbing',
        'UploadScriptRecording',
        'StartScriptConsole',
        'SendConsoleTurn',
        'GetConsoleSession',
      ]),
    );
    const create = doc.body.components.schemas.CreateScriptDto;
    expect(create.properties.script.properties.flows.type).toBe('array');
  });
});
