/**
 * The replay check must fail on a deliberately nondeterministic change. The workflows are copied to a temporary
 * directory (src/ and activities/ linked beside them, as their relative imports expect), one line of the contact
 * workflow is changed so it takes a timer before asking for its seat, and the changed copy is bundled and replayed
 * over a real recorded history (test/fixtures/histories/walking-skeleton-contact-0.json, an answered call). The
 * real workflows/ is never touched. No server is needed: the SDK's replayer runs the bundle over the history.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryReplayer } from './replayer';

const ROOT = join(__dirname, '..', '..');
const HISTORY = readFileSync(join(ROOT, 'test', 'fixtures', 'histories', 'walking-skeleton-contact-0.json'), 'utf8');
const WORKFLOW_ID = 'task/audit/contact/0';
let dir = '';

/** A copy of workflows/ whose contact workflow sleeps a millisecond before its seat request. */
function changedWorkflows(): string {
  dir = mkdtempSync(join(tmpdir(), 'waihu-nondeterministic-'));
  mkdirSync(join(dir, 'workflows'));
  for (const f of readdirSync(join(ROOT, 'workflows')).filter((f) => f.endsWith('.ts')))
    copyFileSync(join(ROOT, 'workflows', f), join(dir, 'workflows', f));
  for (const linked of ['src', 'activities', 'node_modules']) symlinkSync(join(ROOT, linked), join(dir, linked));
  const file = join(dir, 'workflows', 'contact-call.ts');
  const code = readFileSync(file, 'utf8');
  const line = 'await campaign.signal(seatRequestSignal, contact.index);';
  if (!code.includes(line)) throw new Error(`the contact workflow no longer has "${line}": update this test`);
  writeFileSync(file, code.replace(line, `await sleep(1);\n      ${line}`));
  return join(dir, 'workflows', 'index.ts');
}

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(HistoryReplayer.name, () => {
  it('reports the same decisions for the current workflow code', async () => {
    const report = await new HistoryReplayer().replay(HISTORY, WORKFLOW_ID);
    expect(report).toMatchObject({ sameDecisions: true, workflowId: WORKFLOW_ID });
    expect(report.events).toBeGreaterThan(20);
    expect(report.failure).toBeUndefined();
  }, 120_000);

  it('fails, naming the non-determinism, for a deliberately changed copy of the workflow code', async () => {
    const report = await new HistoryReplayer({ workflowsPath: changedWorkflows() }).replay(HISTORY, WORKFLOW_ID);
    expect(report.sameDecisions).toBe(false);
    expect(report.failure).toMatchObject({ kind: 'nondeterminism', message: expect.stringMatching(/nondetermin/i) });
  }, 120_000);
});
