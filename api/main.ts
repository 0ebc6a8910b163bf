/** API entry point: `node dist/api/main.js`. Configuration comes only from loadConfig(). */
import 'reflect-metadata';
import { loadConfigOrExit } from '../config/config';
import { createLogger } from '../activities/logger';
import { closePorts, createApp, openPorts } from './app.module';

async function run(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel, 'waihu-api');
  if (config.api.usesDevKey)
    logger.warn('API_KEYS is not set: the built-in development key is active; set API_KEYS in production');
  const ports = await openPorts(config, logger);
  try {
    const app = await createApp(ports);
    await app.listen(config.api.port, config.api.host);
    logger.info({ url: `http://${config.api.host}:${config.api.port}`, docs: '/docs' }, 'API listening');
    await new Promise<void>((resolve) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
    });
    await app.close();
  } finally {
    await closePorts(ports);
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
