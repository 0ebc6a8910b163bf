/** Open the MongoDB connection (real MongoDB or FerretDB) and register the models. */
import mongoose from 'mongoose';
import { registerModels, type Models } from './schemas';
import { CallRepository, ContactPageRepository, TaskRepository } from './repositories';
import { registerTenantSeats, TenantSeatRepository } from './tenant-seats';
import { DialCountRepository, registerDialCounts } from './dial-counts';
import { DialogRepository, registerDialogs } from './dialog-repository';
import { openListRepositories, type DncRepository, type ListImportRepository } from './list-repositories';
import { openLineRepository, type LineRepository } from './line-repository';
import { openScriptRepository, type ScriptRepository } from './script-repository';
import { openAgentRepository, type AgentRepository } from './agent-repository';
import { registerTenantSettings, TenantSettingsRepository, type TenantDefaults } from './tenant-settings';
import { loadConfig } from '../../config/config';

export interface Repositories {
  conn: mongoose.Connection;
  models: Models;
  tasks: TaskRepository;
  pages: ContactPageRepository;
  calls: CallRepository;
  seats: TenantSeatRepository;
  dialCounts: DialCountRepository;
  /** Call-list imports: phone hash buckets, import reports, idempotency keys. */
  imports: ListImportRepository;
  /** The tenants' do-not-call lists. */
  dnc: DncRepository;
  /** Dialog records of answered calls with a script. */
  dialogs: DialogRepository;
  /** Robot scripts, their versions and dubbing, and text-console sessions. */
  scripts: ScriptRepository;
  /** Caller lines, caller numbers and the lines' call slots. */
  lines: LineRepository;
  /** Skill groups, departments, agents, their states and history, the tenants' hotline settings. */
  agents: AgentRepository;
  /** The tenants' settings (blocked hours, holidays, AI-seat pool, frequency caps, default zone) over the config's. */
  tenantSettings: TenantSettingsRepository;
}

/**
 * `tenantDefaults`: the configuration's (`config.tenantDefaults`); pass them, or the built-in defaults apply and
 * BLOCKED_HOURS, HOLIDAYS, TENANT_AI_SEATS, FREQUENCY_CAP_* and DEFAULT_TIMEZONE are ignored.
 */
export async function openRepositories(
  uri: string,
  tenantDefaults: TenantDefaults = loadConfig({}).tenantDefaults,
): Promise<Repositories> {
  // No transactions, $lookup or change streams anywhere: the same code runs on FerretDB 1.24 and MongoDB 7.
  const conn = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000, autoIndex: true });
  await conn.asPromise();
  const models = registerModels(conn);
  const tenantSeats = registerTenantSeats(conn);
  const dialCounts = registerDialCounts(conn);
  const dialogs = registerDialogs(conn);
  const tenantSettings = registerTenantSettings(conn);
  await Promise.all([
    models.tasks.init(),
    models.contactPages.init(),
    models.calls.init(),
    tenantSeats.init(),
    dialCounts.init(),
    dialogs.init(),
    tenantSettings.init(),
  ]);
  const lists = await openListRepositories(conn, models);
  const lines = await openLineRepository(conn, models.tasks);
  const scripts = await openScriptRepository(conn);
  const agents = await openAgentRepository(conn);
  return {
    conn,
    models,
    tasks: new TaskRepository(models),
    pages: new ContactPageRepository(models),
    calls: new CallRepository(models),
    seats: new TenantSeatRepository(tenantSeats),
    dialCounts: new DialCountRepository(dialCounts),
    imports: lists.imports,
    dnc: lists.dnc,
    dialogs: new DialogRepository(dialogs),
    scripts,
    lines,
    agents,
    tenantSettings: new TenantSettingsRepository(tenantSettings, tenantSeats, tenantDefaults),
  };
}

export async function pingMongo(conn: mongoose.Connection): Promise<void> {
  if (!conn.db) throw new Error('not connected');
  await conn.db.admin().command({ ping: 1 });
}
