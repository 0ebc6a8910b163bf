/**
 * Replay verification from the command line (issue #9): fetch a call's workflow history from Temporal (or read a
 * saved one) and replay it against this checkout's workflow code.
 *
 *   npm run build && npm run replay -- <taskId> <attemptId | contactIndex>
 *   npm run replay -- --workflow-id task/<taskId>/contact/<index>
 *   npm run replay -- --file history.json [--workflow-id <id>]     (e.g. an ExportCallHistory download)
 *
 * Prints one JSON report ({ workflowId, events, sameDecisions, failure? }) and exits 0 when the code makes the same
 * decisions, 1 when it does not (or the replay failed), 2 on bad usage. Temporal's address comes from the usual
 * configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE).
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { loadConfigOrExit } from '../../config/config';
import { contactWorkflowId } from '../../src/ids';
import { HistoryReplayer } from './replayer';

const USAGE =
  'usage: replay <taskId> <attemptId|contactIndex> | --workflow-id <id> | --file <history.json> [--workflow-id <id>]';

async function run(argv: string[]): Promise<number> {
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const file = flag('--file');
  let workflowId = flag('--workflow-id');
  const positional = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  if (!workflowId && positional.length === 2) {
    const [taskId, call] = positional as [string, string];
    const index = /^\d+$/.test(call) ? Number(call) : Number(/-(\d+)-\d+$/.exec(call)?.[1]);
    if (!Number.isInteger(index)) throw new Usage(`not an attempt id or contact index: ${call}`);
    workflowId = contactWorkflowId(taskId, index);
  }
  if (!file && !workflowId) throw new Usage(USAGE);

  // The report is the only thing on stdout: the replay worker's own lifecycle logs are left out.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const replayer = new HistoryReplayer();
  let report;
  if (file) {
    report = await replayer.replay(readFileSync(file, 'utf8'), workflowId ?? 'replayed');
  } else {
    const config = loadConfigOrExit();
    const connection = await Connection.connect({ address: config.temporal.address });
    try {
      const client = new Client({ connection, namespace: config.temporal.namespace });
      const handle = client.workflow.getHandle(workflowId!);
      report = await replayer.replay(await handle.fetchHistory(), workflowId!, (await handle.describe()).runId);
    } finally {
      await connection.close();
    }
  }
  console.log(JSON.stringify(report, null, 2));
  return report.sameDecisions ? 0 : 1;
}

class Usage extends Error {}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Usage ? err.message : err);
    process.exit(err instanceof Usage ? 2 : 1);
  },
);
