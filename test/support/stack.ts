/**
 * The whole service in the test process, on the real servers: the NestJS API (reached over HTTP with supertest) and
 * both Temporal workers (campaign and media, with their ARI connection), with a database, task queues and an ARI
 * application of their own so tests never see each other's work.
 */
import type { INestApplication } from '@nestjs/common';
import type { Config } from '../../config/config';
import { createLogger } from '../../activities/logger';
import { buildWorkers, type WorkerHandles } from '../../activities/worker-setup';
import { closePorts, createApp, openPorts, type AppPorts } from '../../api/app.module';
import { servers, testConfig, uniqueName } from './servers';

export interface Stack {
  config: Config;
  app: INestApplication;
  close(): Promise<void>;
}

/** Start API and workers; `overrides` are configuration variables (API_KEYS, SIP_ROUTES, …). */
export async function startStack(name: string, overrides: Record<string, string>): Promise<Stack> {
  const taskQueue = uniqueName(`${name}-`);
  const config = testConfig({
    MONGODB_URI: `${servers.mongoBaseUri}/${uniqueName(`waihu_${name}_`)}`,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_MEDIA_TASK_QUEUE: `${taskQueue}-media`,
    ARI_APP: uniqueName(name),
    TTS_CHROOT: servers.asteriskRoot,
    ...overrides,
  });
  const logger = createLogger(config.logLevel, name);
  const workers: WorkerHandles = await buildWorkers(config, logger);
  const workerRun = workers.run();
  let ports: AppPorts | undefined;
  let app: INestApplication | undefined;
  const close = async () => {
    await app?.close();
    if (ports) await closePorts(ports);
    workers.shutdown();
    await workerRun;
    await workers.close();
  };
  try {
    ports = await openPorts(config, logger);
    app = await createApp(ports);
    await app.init();
  } catch (err) {
    await close();
    throw err;
  }
  return { config, app, close };
}
