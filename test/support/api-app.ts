/**
 * The HTTP API of a test, in process on the real servers (FerretDB, the Temporal dev server): the NestJS app as
 * `createApp` (api/app.module) builds it, initialised but not listening (supertest binds its HTTP server per request).
 * No worker runs: a test that needs one uses stack.ts.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createLogger, type Logger } from '../../activities/logger';
import { closePorts, createApp, openPorts, type AppPorts } from '../../api/app.module';
import { loadConfig, type Config } from '../../config/config';
import { servers, testConfig, uniqueName } from './servers';

export interface ApiTestApp {
  app: INestApplication;
  /** What the app runs on: its configuration, logger, repositories and Temporal client. */
  ports: AppPorts;
  /** A supertest request to the app. */
  http(): ReturnType<typeof request>;
  /** Close the app, drop its database (the first app's only) and close the ports (afterAll). */
  close(): Promise<void>;
}

export interface ApiTestAppOptions {
  /** Configuration variables (API_KEYS, …) over the test defaults and a fresh database; ignored with `config`. */
  env?: Record<string, string>;
  /** The whole configuration, for a test that needs it before beforeAll (make it with {@link apiTestConfig}). */
  config?: Config;
  /** The app's logger; by default one at the configured level named `name`. */
  logger?: Logger;
}

/** A test's configuration: the real servers, a fresh database `waihu_<name>_…`, and `env`'s variables. */
export function apiTestConfig(name: string, env: Record<string, string> = {}): Config {
  return testConfig({
    MONGODB_URI: `${servers.mongoBaseUri}/${uniqueName(`waihu_${name.replace(/\W/g, '_')}_`)}`,
    ...env,
  });
}

/** Open the ports and start the API; `name` names its logger and (without `config`) its database. */
export async function apiTestApp(name: string, options: ApiTestAppOptions = {}): Promise<ApiTestApp> {
  const config = options.config ?? apiTestConfig(name, options.env);
  return start(config, options.logger ?? createLogger(config.logLevel, name), true);
}

/**
 * A second API on the same servers and database as `base` whose keys are `base`'s plus `keys` (API_KEYS entries
 * `key:tenant:roles`): for keys that can only be written once the test has made what they name, such as an agent's
 * key `key:tenant:agent@<agentId>`. Its close() leaves the database to the first app.
 */
export async function apiTestAppWithKeys(base: Config, keys: string[], logger: Logger): Promise<ApiTestApp> {
  const extra = loadConfig({ API_KEYS: keys.join(',') }).api.keys;
  return start({ ...base, api: { ...base.api, keys: [...base.api.keys, ...extra] } }, logger, false);
}

async function start(config: Config, logger: Logger, ownsDatabase: boolean): Promise<ApiTestApp> {
  const ports = await openPorts(config, logger);
  let app: INestApplication | undefined;
  const close = async (): Promise<void> => {
    if (app) {
      // A keep-alive socket (an event stream's) would hold the server open.
      (app.getHttpServer() as { closeAllConnections?: () => void }).closeAllConnections?.();
      await app.close();
    }
    if (ownsDatabase) await ports.repos.conn.dropDatabase();
    await closePorts(ports);
  };
  try {
    app = await createApp(ports);
    await app.init();
  } catch (err) {
    await close();
    throw err;
  }
  const started = app;
  return { app: started, ports, http: () => request(started.getHttpServer()), close };
}
