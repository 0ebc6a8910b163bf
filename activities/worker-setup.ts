/**
 * Wiring of the worker process: three Temporal workers sharing one connection.
 * - the campaign queue runs the workflows and the MongoDB bookkeeping activities;
 * - the media queue runs the dial activity, on a process that holds an ARI connection, so a call's events reach
 *   the activity that placed it;
 * - this process's own host queue runs the turn activities (speak, listen, end) of the calls it holds: a channel
 *   lives in one process, so every turn of its dialog must run there.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createAgentDirectory } from './agents/agent-directory';
import { syncAgentPhonesToAsterisk } from './agents/agent-phones';
import { createQueueActivities } from './queue-activities';
import type { Config } from '../config/config';
import { AriAdapter } from './ari/ari-adapter';
import { createCampaignActivities } from './campaign-activities';
import type { Logger } from './logger';
import { createMediaActivities } from './media-activities';
import { tracingOptions } from './observability/tracing';
import { runtimeMeter } from './observability/runtime';
import { callMetricsInterceptor } from './observability/worker-metrics';
import { openRepositories, type Repositories } from './mongo/connection';
import { frequencyCapOf } from './mongo/tenant-settings';
import { createScriptSource } from './script-source';
import { defaultMaxHoldMs, LineAllocator } from './telephony/line-allocator';
import { startRecordingRetention } from './telephony/recording-retention';
import { StoredRecordings } from './telephony/stored-recordings';
import { syncLinesToAsterisk } from './telephony/pjsip-lines';
import { createEspeakTts, createHoldMusic } from './speech/espeak-tts';
import { AudioTaps } from './speech/audio-tap';
import { VoskRecognizer } from './speech/vosk-recognizer';

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
  const repos = await openRepositories(config.mongodbUri, config.tenantDefaults);
  const ari = await AriAdapter.connect(config.ari, logger.child({ component: 'ari' }));
  // Lines live in Asterisk's memory only: push every stored line on start (and again when ARI reconnects).
  const pushLines = async () => {
    const synced = await syncLinesToAsterisk(ari.ari, await repos.lines.allLines());
    if (synced.failed.length) logger.error({ failed: synced.failed }, 'lines not pushed to Asterisk');
    else if (synced.pushed) logger.info({ lines: synced.pushed }, 'lines pushed to Asterisk');
    const phones = await syncAgentPhonesToAsterisk(ari.ari, await repos.agents.allAgentPhones());
    if (phones.failed.length) logger.error({ failed: phones.failed }, 'agent phones not pushed to Asterisk');
    else if (phones.pushed) logger.info({ agentPhones: phones.pushed }, 'agent phones pushed to Asterisk');
  };
  await pushLines();
  ari.onReconnected(() => void pushLines().catch((err: unknown) => logger.error({ err }, 'line sync failed')));
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const workflowSource = extra.workflowBundle
    ? { workflowBundle: extra.workflowBundle }
    : { workflowsPath: extra.workflowsPath ?? require.resolve('../workflows') };

  // Observability (activities/observability): OpenTelemetry tracing when OTEL_TRACING=true; call metrics on the
  // workers that run the dial and turn activities (one interceptor, so a call dialled by one and ended by the other
  // is counted once).
  const tracing = tracingOptions(config);
  const observed = { ...tracing, interceptors: { activity: [callMetricsInterceptor(runtimeMeter)] } };
  const campaign = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...tracing,
    ...workflowSource,
    activities: {
      ...createCampaignActivities({ ...repos, logger: logger.child({ component: 'campaign' }) }),
      // The transfer queues' activities: agents' states (MongoDB) and joining a queue (the Temporal client).
      ...createQueueActivities({
        agents: createAgentDirectory({ agents: repos.agents }),
        temporal: client,
        taskQueue: config.temporal.taskQueue,
        logger: logger.child({ component: 'queue' }),
      }),
    },
  });
  // Speech recognition (ASR_URL set): the callee's audio through a per-call tap into a Vosk server.
  const { url: asrUrl, ...tapConfig } = config.asr;
  const taps = asrUrl
    ? await AudioTaps.start(ari, { app: config.ari.app, ...tapConfig }, logger.child({ component: 'asr' }))
    : undefined;
  const recognizer = taps
    ? new VoskRecognizer(taps, { url: asrUrl!, sampleRate: tapConfig.sampleRate }, logger.child({ component: 'asr' }))
    : undefined;
  const hostQueue = `${config.temporal.mediaTaskQueue}@${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const mediaActivities = createMediaActivities({
    ari,
    calls: repos.calls,
    scripts: createScriptSource(repos.scripts),
    holdMusic: createHoldMusic(config.tts),
    recording: { app: config.ari.app, maxDurationSeconds: config.call.maxCallSeconds + 60 },
    lines: new LineAllocator(repos.lines, { maxHoldMs: defaultMaxHoldMs(config.call) }),
    dialogs: repos.dialogs,
    ...(recognizer ? { recognizer } : {}),
    hostQueue,
    dnc: repos.dnc,
    dialCounts: repos.dialCounts,
    frequencyCap: async (tenantId) => frequencyCapOf(await repos.tenantSettings.get(tenantId)),
    tts: createEspeakTts(config.tts),
    logger: logger.child({ component: 'media' }),
    sip: config.sip,
    call: config.call,
  });
  const media = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.mediaTaskQueue,
    activities: mediaActivities,
    ...observed,
  });
  const host = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: hostQueue,
    activities: mediaActivities,
    ...observed,
  });
  const workers = [campaign, media, host];
  // Recordings older than RECORDING_RETENTION_DAYS are deleted from Asterisk (idempotent: every worker may sweep).
  const stopRetention = startRecordingRetention({
    store: new StoredRecordings(config.ari),
    calls: repos.calls,
    logger: logger.child({ component: 'recording-retention' }),
    retentionDays: config.recordings.retentionDays,
  });
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
      await stopRetention();
      await taps?.closeAll();
      await ari.close();
      await connection.close();
      await clientConnection.close();
      await repos.conn.close();
    },
  };
}
