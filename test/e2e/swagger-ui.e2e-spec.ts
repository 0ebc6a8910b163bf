/**
 * Swagger UI at /docs, driven by a real browser: authorise with an API key, create a task with a CSV list through
 * CreateTask's form (multipart upload), download the list template (xlsx); and every schema in the OpenAPI document
 * carries examples where a value is not obvious.
 * Real: the NestJS app listening on a loopback port, FerretDB, and Debian's Chromium (headless, in its own chroot,
 * `bash scripts/install.sh chromium`) driven over the DevTools protocol by playwright-core. Temporal is not contacted:
 * the task is created with effectiveImmediately false, so no campaign starts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as XLSX from 'xlsx';
import { createLogger } from '../../activities/logger';
import { closePorts, createApp, openPorts, type AppPorts } from '../../api/app.module';
import { servers, testConfig, uniqueName } from '../support/servers';

const ROOT = join(__dirname, '..', '..');
const MANAGER = 'swagger-ui-manager-key-0123456789';
const TENANT = uniqueName('tenant');
const CACHE = process.env.WAIHU_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'waihu');
const CHROMIUM_ROOT = process.env.CHROMIUM_ROOT ?? join(CACHE, 'chromium-root');

interface Openapi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}
interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string; example?: unknown; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
  format?: string;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
}

let ports: AppPorts;
let app: INestApplication;
let baseUrl: string;
let browserProcess: ChildProcess | undefined;
let browser: Browser | undefined;
let profile: string | undefined;

/**
 * Chromium in its chroot, headless, with DevTools on a loopback port it picks itself (the chroot shares the network
 * namespace). It needs /proc and /dev: they are mounted in a private mount namespace (unshare), which disappears with
 * the browser, so the host never sees a mount inside the chroot. Resolves with the DevTools websocket URL.
 */
function launchChromium(): Promise<string> {
  profile = mkdtempSync(join(CHROMIUM_ROOT, 'tmp', 'swagger-ui-'));
  const inside = `/tmp/${profile.split('/').pop()!}`;
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      'r=$1; shift; mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" && exec chroot "$r" "$@"',
      'sh',
      CHROMIUM_ROOT,
      '/usr/lib/chromium/chromium',
      '--headless',
      '--no-sandbox', // we run as root, and the chroot has no setuid sandbox helper
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      `--user-data-dir=${inside}`,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      'about:blank',
    ],
    // Chromium's own temporary files go into the profile too, which afterAll deletes.
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: inside } },
  );
  browserProcess = child;
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not open DevTools within 30 s:\n${stderr}`)), 30_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited (${code}) before DevTools opened:\n${stderr}`));
    });
  });
}

beforeAll(async () => {
  // Cached after the first run (a stamp check, milliseconds); the first run builds the chroot (about 2 minutes).
  await promisify(execFile)('bash', [join(ROOT, 'scripts', 'install.sh'), 'chromium'], { timeout: 600_000 });
  const config = testConfig({
    MONGODB_URI: `${servers.mongoBaseUri}/${uniqueName('waihu_swagger_ui_')}`,
    API_KEYS: `${MANAGER}:${TENANT}:manager|supervisor`,
  });
  ports = await openPorts(config, createLogger(config.logLevel, 'swagger-ui'));
  app = await createApp(ports);
  await app.listen(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  browser = await chromium.connectOverCDP(await launchChromium());
}, 660_000);

afterAll(async () => {
  await browser?.close();
  if (browserProcess && browserProcess.exitCode === null) {
    const exited = new Promise((resolve) => browserProcess!.once('exit', resolve));
    browserProcess.kill('SIGTERM');
    await exited;
  }
  if (profile) rmSync(profile, { recursive: true, force: true });
  await app?.close();
  if (ports) {
    await ports.repos.conn.dropDatabase();
    await closePorts(ports);
  }
});

async function openapi(): Promise<Openapi> {
  const res = await fetch(`${baseUrl}/docs/openapi.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as Openapi;
}

/** A property whose value a reader cannot guess needs an example; enums, booleans and references speak for themselves. */
function needsExample(s: Schema): boolean {
  if (s.example !== undefined || s.default !== undefined || s.enum || s.type === 'boolean') return false;
  if (s.$ref || s.allOf || s.oneOf || s.anyOf) return false;
  if (s.type === 'array') return s.items ? needsExample(s.items) : true;
  if (s.type === 'object' && s.properties) return false;
  if (s.format === 'binary') return false;
  return true;
}

describe('the OpenAPI document', () => {
  it('gives examples for every parameter and DTO property whose value is not obvious', async () => {
    const doc = await openapi();
    const missing: string[] = [];
    const seen = new Set<string>();
    const visit = (s: Schema | undefined, where: string) => {
      if (!s) return;
      // An example of the whole object (Swagger UI shows it as is) covers what is inside.
      if (s.example !== undefined) return;
      if (s.$ref) {
        const name = s.$ref.replace('#/components/schemas/', '');
        if (seen.has(name)) return;
        seen.add(name);
        visit(doc.components.schemas[name], name);
        return;
      }
      for (const sub of [...(s.allOf ?? []), ...(s.oneOf ?? []), ...(s.anyOf ?? [])]) visit(sub, where);
      if (s.items) visit(s.items, where);
      if (typeof s.additionalProperties === 'object') visit(s.additionalProperties, where);
      for (const [prop, p] of Object.entries(s.properties ?? {})) {
        if (needsExample(p)) missing.push(`${where}.${prop}`);
        visit(p, `${where}.${prop}`);
      }
    };
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) {
        const name = op.operationId ?? `${method.toUpperCase()} ${path}`;
        // Query parameters come from the query DTOs; path and header parameters are declared on the controllers.
        for (const param of op.parameters ?? [])
          if (param.in === 'query' && param.example === undefined && (!param.schema || needsExample(param.schema)))
            missing.push(`${name} ${param.in} parameter ${param.name}`);
        for (const c of Object.values(op.requestBody?.content ?? {})) visit(c.schema, `${name} body`);
        for (const r of Object.values(op.responses ?? {}))
          for (const c of Object.values(r.content ?? {})) visit(c.schema, `${name} response`);
      }
    // Schemas no operation names (extra models) are documentation too.
    for (const name of Object.keys(doc.components.schemas)) visit({ $ref: `#/components/schemas/${name}` }, name);
    expect(missing).toEqual([]);
  });

  /**
   * Operations whose success response is not described yet (issue #3). Each entry is work left, not a design:
   * remove it when the route gets its response DTO (or, for a download, `@ApiProduces` and a binary schema).
   */
  const RESPONSE_SCHEMA_PENDING = new Set<string>([]);

  it('describes every operation’s success response with a schema (204 No Content aside)', async () => {
    const doc = await openapi();
    const missing: string[] = [];
    const stale: string[] = [];
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) {
        const name = op.operationId ?? `${method.toUpperCase()} ${path}`;
        const success = Object.entries(op.responses ?? {}).filter(([code]) => /^2\d\d$/.test(code));
        const described =
          success.length > 0 &&
          success.every(
            ([code, r]) =>
              code === '204' ||
              (Object.keys(r.content ?? {}).length > 0 && Object.values(r.content ?? {}).every((c) => c.schema)),
          );
        if (RESPONSE_SCHEMA_PENDING.has(name)) {
          if (described) stale.push(name);
        } else if (!described) missing.push(`${name} (${method.toUpperCase()} ${path})`);
      }
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });

  it('documents a CreateScript body that the API accepts as it stands', async () => {
    const doc = await openapi();
    const op = doc.paths['/scripts']!.post!;
    const ref = op.requestBody!.content['application/json']!.schema!.$ref!;
    const schema = doc.components.schemas[ref.replace('#/components/schemas/', '')]!;
    const body = Object.fromEntries(Object.entries(schema.properties!).map(([k, p]) => [k, p.example]));
    const res = await fetch(`${baseUrl}/scripts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${MANAGER}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect({ status: res.status, body: await res.json() }).toMatchObject({ status: 201 });
  });
});

/** Swagger UI's operation block: `operations-{tag}-{operationId}`, expanded and switched to "Try it out". */
async function tryOut(page: Page, tag: string, operationId: string) {
  const op = page.locator(`#operations-${tag}-${operationId}`);
  await op.locator('.opblock-summary').first().click();
  await op.locator('button.try-out__btn').click();
  return op;
}

describe('Swagger UI in Chromium', () => {
  let page: Page;

  beforeAll(async () => {
    const context = browser!.contexts()[0] ?? (await browser!.newContext());
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${baseUrl}/docs`);
    await page.locator('.swagger-ui .info .title').waitFor();
    // Authorize dialog: the bearer scheme's value field, then Authorize and Close.
    await page.locator('.swagger-ui .auth-wrapper button.authorize').click();
    const modal = page.locator('.swagger-ui .dialog-ux .modal-ux');
    await modal.locator('input[type=text], input[type=password]').first().fill(MANAGER);
    await modal.locator('button.authorize').click();
    await modal.locator('button.btn-done').click();
  }, 60_000);

  it('creates a task with a CSV list through CreateTask (multipart upload)', async () => {
    const op = await tryOut(page, 'tasks', 'CreateTask');
    const definition = {
      name: 'Swagger界面任务',
      workingDays: [1, 2, 3, 4, 5],
      workingWindows: [{ start: '09:00', end: '12:00' }],
      effectiveImmediately: false,
    };
    await op
      .locator('tr[data-property-name="definition"] textarea, tr[data-property-name="definition"] input')
      .first()
      .fill(JSON.stringify(definition));
    await op.locator('tr[data-property-name="file"] input[type=file]').setInputFiles({
      name: 'list.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('用户号码,用户名称\n13900000001,张三\n13900000002,李四\n13900000001,张三\n', 'utf8'),
    });
    await op.locator('button.execute').click();
    const response = op.locator('.live-responses-table .response').first();
    await expect(response.locator('.response-col_status').innerText()).resolves.toContain('201');
    const body = JSON.parse(await response.locator('.response-col_description pre.microlight').first().innerText()) as {
      id: string;
      import: { imported: number; duplicatesInFile: number };
    };
    expect(body.import).toMatchObject({ imported: 2, duplicatesInFile: 1 });
    expect(body.id).toMatch(/^[0-9a-f]{20}$/);
    // The task the browser created is there for the API too.
    const got = await fetch(`${baseUrl}/tasks/${body.id}`, { headers: { Authorization: `Bearer ${MANAGER}` } });
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ id: body.id, name: definition.name, totalContacts: 2 });
  });

  it('downloads the list template (DownloadListTemplate) as an xlsx file', async () => {
    const op = await tryOut(page, 'tasks', 'DownloadListTemplate');
    await op.locator('button.execute').click();
    const response = op.locator('.live-responses-table .response').first();
    await expect(response.locator('.response-col_status').innerText()).resolves.toContain('200');
    // Swagger UI turns a binary response into a "Download file" link to a blob: URL; read the bytes it holds.
    const link = response.locator('a', { hasText: 'Download file' });
    await expect(link.getAttribute('download')).resolves.toMatch(/\.xlsx$/);
    const href = await link.getAttribute('href');
    expect(href).toMatch(/^blob:/);
    const base64 = await page.evaluate(async (url: string) => {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    }, href!);
    const wb = XLSX.read(Buffer.from(base64, 'base64'), { type: 'buffer' });
    const rows = XLSX.utils.sheet_to_json<unknown[]>(wb.Sheets[wb.SheetNames[0]!]!, { header: 1 });
    expect(rows[0]).toEqual(expect.arrayContaining(['用户号码', '用户名称', '时区']));
  });
});
