/**
 * Wiring of the worker process: two Temporal workers sharing one connection.
 * - the campaign queue runs the workflows and the MongoDB bookkeeping activities;
 * - the media queue runs the dial activity, on the process that holds the ARI connection, so a call's events reach
 *   the activity that placed it.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config/config';
import { AriAdapter } from './ari/ari-adapter';
import { createCampaignActivities } from './campaign-activities';
import type { Logger } from './logger';
import { createMediaActivities } from './media-activities';
import { openRepositories, type Repositories } from './mongo/connection';
import { createEspeakTts } from './speech/espeak-tts';

export interface WorkerHandles {
  workers: Worker[];
  repos: Repositories;
  ari: AriAdapter;
  connection: NativeConnection;
  /** Run every worker until shutdown; resolves when all have stopped. */
  run(): Promise<void>;
  shutdown(): void;
  close(): Promise<void>;
}

export async function buildWorkers(
  config: Config,
  logger: Logger,
  extra: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = {},
): Promise<WorkerHandles> {
  const repos = await openRepositories(config.mongodbUri);
  const ari = await AriAdapter.connect(config.ari, logger.child({ component: 'ari' }));
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const workflowSource = extra.workflowBundle
    ? { workflowBundle: extra.workflowBundle }
    : { workflowsPath: extra.workflowsPath ?? require.resolve('../workflows') };

  const campaign = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...workflowSource,
    activities: createCampaignActivities({ ...repos, logger: logger.child({ component: 'campaign' }) }),
  });
  const media = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.mediaTaskQueue,
    activities: createMediaActivities({
      ari,
      calls: repos.calls,
      dnc: repos.dnc,
      dialCounts: repos.dialCounts,
      frequencyCap: { ...config.tenantDefaults.frequencyCap, timezone: config.tenantDefaults.timezone },
      tts: createEspeakTts(config.tts),
      logger: logger.child({ component: 'media' }),
      sip: config.sip,
      call: config.call,
    }),
  });
  const workers = [campaign, media];
  return {
    workers,
    repos,
    ari,
    connection,
    run: async () => {
      await Promise.all(workers.map((w) => w.run()));
    },
    shutdown: () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown()),
    close: async () => {
      await ari.close();
      await connection.close();
      await repos.conn.close();
    },
  };
}
