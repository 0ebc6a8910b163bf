/**
 * Replay: the workflow histories of real campaigns (recorded from the end-to-end walking skeleton and the audit
 * end-to-end test — an answered call with a robot dialog, a pause, a redial — on Temporal, FerretDB, Asterisk and
 * sipp, kept in test/fixtures/histories) are replayed against the current workflow code.
 * A change that would make running campaigns take different decisions fails here, and must be gated with
 * `patched()`. No server is needed: the SDK's replayer runs the bundled workflows over each history.
 */
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(__dirname, '..', 'fixtures', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows') });
}, 120_000);

describe('replay of recorded campaign histories', () => {
  it('has histories to replay (a campaign and contacts of several outcomes)', () => {
    expect(files).toContain('walking-skeleton-campaign.json');
    expect(files.filter((f) => f.includes('contact')).length).toBeGreaterThanOrEqual(5);
  });

  it('has answered calls with a robot dialog (turn activities in the history), from test/e2e/audit', () => {
    const dialogs = files.filter((f) => /"name": *"speak"/.test(readFileSync(join(DIR, f), 'utf8')));
    expect(dialogs).toContain('audit-contact-0.json');
  });

  it.each(files)('%s replays without non-determinism', async (file) => {
    const history: unknown = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, file);
  });
});
