/**
 * What the transfer end-to-end tests share (test/e2e/transfer-agents, call-controls): skill groups and agents created
 * through the API (each agent's phone a PJSIP endpoint pointing at a sipp UAS on loopback, watched by a
 * TrunkObserver), agent states, a second API whose keys include agent-role keys, and tasks of the demo script whose
 * 转人工 goes to a given skill group.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createLogger } from '../../activities/logger';
import type { Config } from '../../config/config';
import { demoScript } from '../../src/script/demo';
import type { Script } from '../../src/script/model';
import { apiTestAppWithKeys, type ApiTestApp } from './api-app';
import { TrunkObserver } from './asterisk';
import { zoneWhereOpenNow } from './calendar';
import { approvedScript } from './scripts';
import { uniqueName } from './servers';
import { until } from './wait';

type Row = Record<string, unknown>;

export interface TransferKitOptions {
  /** The test's API and the configuration it runs with (read when used: they exist once beforeAll ran). */
  app: () => INestApplication;
  config: () => Config;
  tenant: string;
  manager: string;
  supervisor: string;
}

export function transferKit(o: TransferKitOptions) {
  const as = (key: string) => ({ Authorization: `Bearer ${key}` });
  const http = (a: INestApplication = o.app()) => request(a.getHttpServer());
  const observers: TrunkObserver[] = [];
  const extraApis: ApiTestApp[] = [];

  return {
    as,
    http,

    async skillGroup(name: string): Promise<string> {
      const res = await http()
        .post('/skill-groups')
        .set(as(o.manager))
        .send({ name, displayName: `${name}组`, channel: 'HOTLINE', transferVisible: true });
      expect(res.status).toBe(201);
      return res.body.id as string;
    },

    /** An agent of the group whose phone is whatever listens on 127.0.0.1:`port`, and an observer of its calls. */
    async agent(name: string, groupId: string, port: number): Promise<{ id: string; phone: TrunkObserver }> {
      const res = await http()
        .post('/agents')
        .set(as(o.manager))
        .send({
          loginName: `${name}@example.com`,
          realName: name,
          displayName: name,
          skillGroupIds: [groupId],
          phoneAddress: `127.0.0.1:${port}`,
        });
      expect(res.status).toBe(201);
      const id = res.body.id as string;
      const phone = await TrunkObserver.start(o.config().ari, uniqueName('agentobs'), `PJSIP/agent-${id}`);
      observers.push(phone);
      return { id, phone };
    },

    async online(agentId: string): Promise<void> {
      const res = await http().put(`/agents/${agentId}/state`).set(as(o.supervisor)).send({ state: 'ONLINE' });
      expect(res.status).toBe(200);
    },

    async stateOf(agentId: string): Promise<Row> {
      return (await http().get(`/agents/${agentId}/state`).set(as(o.supervisor))).body as Row;
    },

    /** A second API on the same servers whose keys include `agent@<id>` keys (key → agent id). */
    async agentApi(keys: Record<string, string>): Promise<INestApplication> {
      const api = await apiTestAppWithKeys(
        o.config(),
        Object.entries(keys).map(([key, id]) => `${key}:${o.tenant}:agent@${id}`),
        createLogger('warn', 'agent-api'),
      );
      extraApis.push(api);
      return api.app;
    },

    /**
     * Start a task of the demo script (its transfer pointed at the group) for these numbers; returns its id. `extra`
     * adds to the task's definition, `edit` changes the script before it is approved.
     */
    async startTask(
      name: string,
      groupId: string,
      phones: string[],
      extra: Row = {},
      edit: (s: Script) => void = () => undefined,
    ): Promise<string> {
      const script = demoScript();
      for (const node of script.kbFlows.flatMap((f) => f.nodes))
        if (node.kind === 'jump' && node.action.type === 'transfer') node.action.skillGroupId = groupId;
      edit(script);
      const { id: scriptId } = await approvedScript(o.app(), { manager: o.manager, supervisor: o.supervisor }, script);
      const csv = [
        '用户号码,用户名称,custName,shopName',
        ...phones.map((p, i) => `${p},客户${i + 1},客户${i + 1},小王的店`),
      ];
      const task = await http()
        .post('/tasks')
        .set(as(o.manager))
        .field(
          'definition',
          JSON.stringify({
            name,
            workingDays: [1, 2, 3, 4, 5, 6, 7],
            workingWindows: [{ start: '00:00', end: '23:59' }],
            timezone: zoneWhereOpenNow(),
            aiSeats: phones.length,
            scriptId,
            ...extra,
          }),
        )
        .attach('file', Buffer.from(csv.join('\n'), 'utf8'), 'list.csv');
      expect(task.status).toBe(201);
      return task.body.id as string;
    },

    /** Wait for the task to complete; its detail rows. */
    async finished(taskId: string, timeoutMs = 120_000): Promise<Row[]> {
      await until(
        async () => (await http().get(`/tasks/${taskId}`).set(as(o.manager))).body.status === 'COMPLETED',
        `task ${taskId} to complete`,
        timeoutMs,
        500,
      );
      return (await http().get(`/tasks/${taskId}/details`).set(as(o.manager))).body.items as Row[];
    },

    /** Close the observers and the extra APIs (afterAll). */
    async close(): Promise<void> {
      for (const ob of observers) ob.close();
      for (const api of extraApis) await api.close();
    },
  };
}
