/**
 * Where the test servers are. scripts/test.sh starts them (FerretDB, Temporal dev server, the time-skipping test
 * server, Asterisk) and exports these variables; the defaults match the scripts' defaults.
 */
import { loadConfig, type Config } from '../../config/config';

export const servers = {
  temporalAddress: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  temporalTestAddress: process.env.TEMPORAL_TEST_ADDRESS ?? '127.0.0.1:7244',
  mongoBaseUri: process.env.TEST_MONGODB_BASE ?? 'mongodb://127.0.0.1:27017',
  ariUrl: process.env.ARI_URL ?? 'http://127.0.0.1:8088',
  asteriskRoot: process.env.ASTERISK_ROOT ?? `${process.env.HOME ?? '/root'}/.cache/waihu/asterisk-root`,
};

/** A fresh, unique name for per-test databases, task queues and tenants. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** The service configuration a test runs with: the real servers, with test-specific overrides. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    TEMPORAL_ADDRESS: servers.temporalAddress,
    ARI_URL: servers.ariUrl,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...overrides,
  });
}
