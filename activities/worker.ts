/** Worker entry point: `node dist/activities/worker.js`. Configuration comes only from loadConfig(). */
import { loadConfigOrExit } from '../config/config';
import { createLogger } from './logger';
import { installRuntime } from './observability/runtime';
import { buildWorkers } from './worker-setup';

async function run(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel, 'waihu-worker');
  installRuntime(config, logger); // before any connection: the runtime exports the worker's Prometheus metrics
  const handles = await buildWorkers(config, logger);
  logger.info(
    { taskQueue: config.temporal.taskQueue, mediaTaskQueue: config.temporal.mediaTaskQueue },
    'worker started',
  );
  try {
    // The Temporal runtime shuts the workers down on SIGINT/SIGTERM; run() resolves once they have drained.
    await handles.run();
  } finally {
    await handles.close();
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
