/**
 * The one place that reads the environment. `loadConfig(env)` validates every variable at start-up and returns a
 * frozen, typed object, or throws a {@link ConfigError} whose one-line message names every bad variable.
 * Nothing else in the code base reads `process.env`.
 */
import { z } from 'zod';
import { isValidZone } from '../src/calendar';

/**
 * A role decides what a caller may do (each route's @Roles, api/auth/auth.ts). `agent` (普通坐席) is always bound to
 * one agent: it is written `agent@<agentId>` in API_KEYS and sees and changes only that agent's own state and calls.
 */
export const ROLES = ['admin', 'manager', 'supervisor', 'auditor', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  /** The secret presented as `Authorization: Bearer <key>` or `X-API-Key`. Never logged. */
  readonly key: string;
  readonly tenantId: string;
  readonly roles: readonly Role[];
  /** The agent an `agent@<agentId>` key acts as (present exactly when `roles` holds `agent`). */
  readonly agentId?: string;
}

/** `agent@<agentId>`: the agent role bound to one agent (ids as the API makes them). */
const AGENT_ROLE = /^agent@([A-Za-z0-9_-]{1,64})$/;

export interface SipRoute {
  /** E.164 prefix with `+`, longest match wins; `''` is the default route. */
  readonly prefix: string;
  /** host:port of the SIP peer the trunk sends the INVITE to. */
  readonly target: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const DEV_API_KEY = 'waihu-dev-admin-key';

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;
const port = z.coerce.number().int().min(1).max(65535);
const httpUrl = z
  .string()
  .url('must be an http(s) URL such as http://127.0.0.1:8088')
  .refine((v) => /^https?:\/\/[^/]+/.test(v), 'must be an http(s) URL such as http://127.0.0.1:8088');
const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port');
const zone = z.string().refine(isValidZone, 'must be an IANA time zone such as Asia/Shanghai');

const apiKeys = z.string().transform((raw, ctx): ApiKey[] => {
  const keys: ApiKey[] = [];
  for (const entry of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key, tenantId, roleList] = entry.split(':');
    const tokens = (roleList ?? '').split('|').filter(Boolean);
    const agentIds = tokens.flatMap((r) => AGENT_ROLE.exec(r)?.[1] ?? []);
    const roles = tokens.map((r) => (AGENT_ROLE.test(r) ? 'agent' : r));
    // A bare `agent` is refused: an agent key must say which agent it is.
    const bad = tokens.filter(
      (r) => r === 'agent' || (!AGENT_ROLE.test(r) && !(ROLES as readonly string[]).includes(r)),
    );
    if (
      !key ||
      key.length < 16 ||
      !tenantId ||
      !/^[A-Za-z0-9_-]{1,64}$/.test(tenantId) ||
      !roles.length ||
      bad.length ||
      agentIds.length > 1
    ) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        // Never echo the key itself: it is a secret.
        message: `each entry must be key:tenant:role|role with a key of at least 16 characters and roles from ${ROLES.filter((r) => r !== 'agent').join(', ')} or agent@<agentId>`,
      });
      return z.NEVER;
    }
    keys.push({ key, tenantId, roles: roles as Role[], ...(agentIds[0] ? { agentId: agentIds[0] } : {}) });
  }
  if (!keys.length) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'at least one key is required' });
    return z.NEVER;
  }
  return keys;
});

const periods = z.string().transform((raw, ctx) => {
  const out: { start: string; end: string }[] = [];
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [start, end] = part.split('-');
    if (!start || !end || !hhmm.test(start) || !hhmm.test(end) || start === end) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${part}" is not HH:mm-HH:mm` });
      return z.NEVER;
    }
    out.push({ start, end });
  }
  return out;
});

const sipRoutes = z.string().transform((raw, ctx): SipRoute[] => {
  const out: SipRoute[] = [];
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [prefix, target] = part.split('=');
    if (
      prefix === undefined ||
      target === undefined ||
      !/^\+\d{1,15}$/.test(prefix) ||
      !hostPort.safeParse(target).success
    ) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${part}" is not +prefix=host:port` });
      return z.NEVER;
    }
    out.push({ prefix, target });
  }
  return out;
});

/** `from-to`, an inclusive UDP port range. */
const portRange = z.string().transform((raw, ctx) => {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(raw.trim());
  const from = Number(m?.[1]);
  const to = Number(m?.[2]);
  if (!m || from < 1024 || to > 65535 || from > to) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be from-to with 1024 <= from <= to <= 65535' });
    return z.NEVER;
  }
  return { from, to };
});

const schema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  API_KEYS: apiKeys.default(`${DEV_API_KEY}:demo:admin`),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/[^/]+\/[A-Za-z0-9_-]+/, 'must be mongodb://host:port/database')
    .default('mongodb://127.0.0.1:27017/waihu'),
  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('waihu-campaign'),
  TEMPORAL_MEDIA_TASK_QUEUE: z.string().min(1).default('waihu-media'),
  TEMPORAL_UI_URL: httpUrl.default('http://127.0.0.1:8233'),
  TEMPORAL_SEARCH_ATTRIBUTES: z.enum(['true', 'false']).default('true'),
  ARI_URL: httpUrl.default('http://127.0.0.1:8088'),
  ARI_USERNAME: z.string().min(1).default('waihu'),
  ARI_PASSWORD: z.string().min(1).default('waihu-secret'),
  ARI_APP: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('waihu'),
  SIP_TRUNK_ENDPOINT: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('carrier'),
  SIP_DEFAULT_TARGET: hostPort.default('127.0.0.1:5072'),
  SIP_ROUTES: sipRoutes.default(''),
  RING_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(120).default(30),
  MAX_CALL_SECONDS: z.coerce.number().int().min(10).max(7200).default(1800),
  TRANSFER_QUEUE_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  AGENT_RING_SECONDS: z.coerce.number().int().min(5).max(120).default(30),
  TRANSFER_TIMEOUT_PROMPT: z.string().min(1).max(500).default('非常抱歉，人工客服暂时都在忙，请稍后再拨，再见。'),
  TTS_CHROOT: z.string().default(''),
  TTS_SOUNDS_DIR: z.string().min(1).default('/usr/share/asterisk/sounds/custom/waihu'),
  TTS_VOICE: z.string().min(1).default('cmn'),
  DEFAULT_TIMEZONE: zone.default('Asia/Shanghai'),
  BLOCKED_HOURS: periods.default('12:00-14:00,21:00-09:00'),
  LIST_MAX_CONTACTS: z.coerce.number().int().min(1).max(10_000_000).default(1_000_000),
  LIST_MAX_FILE_MB: z.coerce.number().int().min(1).max(2048).default(64),
  FREQUENCY_CAP_PER_DAY: z.coerce.number().int().min(0).max(100).default(3),
  FREQUENCY_CAP_PER_WEEK: z.coerce.number().int().min(0).max(500).default(10),
  TENANT_AI_SEATS: z.coerce.number().int().min(1).max(10000).default(50),
  HOLIDAYS: z
    .string()
    .regex(/^(\d{4}-\d{2}-\d{2})?(,\d{4}-\d{2}-\d{2})*$/, 'must be yyyy-MM-dd dates separated by commas')
    .default(''),
  RECORDING_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(180),
  ASR_URL: z
    .string()
    .regex(/^wss?:\/\/[^/\s]+/, 'must be a ws:// or wss:// URL such as ws://127.0.0.1:2700')
    .optional(),
  ASR_SAMPLE_RATE: z.enum(['8000', '16000']).default('16000'),
  MEDIA_RTP_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, 'must be an IPv4 address or host name')
    .default('127.0.0.1'),
  MEDIA_RTP_PORTS: portRange.default('40000-40999'),
  // Observability (issue #9): see api/audit/metrics.controller.ts and activities/observability/.
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  WORKER_METRICS_BIND: z.union([hostPort, z.literal('')]).default(''),
  OTEL_TRACING: z.enum(['true', 'false']).default('false'),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.default('http://127.0.0.1:4318/v1/traces'),
  DEFAULT_PROMPT: z.string().min(1).max(500).default('您好，这里是外呼机器人的测试来电，感谢您的接听，再见。'),
});

export type Config = Readonly<{
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  api: Readonly<{ host: string; port: number; keys: readonly ApiKey[]; usesDevKey: boolean }>;
  mongodbUri: string;
  temporal: Readonly<{
    address: string;
    namespace: string;
    taskQueue: string;
    mediaTaskQueue: string;
    uiUrl: string;
    /** Set WaihuTenant / WaihuTask / WaihuStatus (registered on the server). */
    searchAttributes: boolean;
  }>;
  ari: Readonly<{ url: string; username: string; password: string; app: string }>;
  sip: Readonly<{ trunkEndpoint: string; defaultTarget: string; routes: readonly SipRoute[] }>;
  call: Readonly<{ ringTimeoutSeconds: number; maxCallSeconds: number; defaultPrompt: string }>;
  /** Transfers to agents: queue timeout (then the prompt and hang-up) and how long an agent's phone rings. */
  transfer: Readonly<{ queueTimeoutSeconds: number; agentRingSeconds: number; timeoutPrompt: string }>;
  /** Stored call recordings are deleted this many days after their call ended (0 = at the next sweep). */
  recordings: Readonly<{ retentionDays: number }>;
  tts: Readonly<{ chroot: string; soundsDir: string; voice: string }>;
  /**
   * Speech recognition: the Vosk server (none: the robot hears keys and silence only), and where Asterisk sends a
   * call's audio (RTP) to this worker: MEDIA_RTP_HOST must be an address of this host that Asterisk reaches.
   */
  asr: Readonly<{
    url?: string;
    sampleRate: 8000 | 16000;
    rtpHost: string;
    rtpPorts: Readonly<{ from: number; to: number }>;
  }>;
  lists: Readonly<{ maxContactsPerTask: number; maxFileBytes: number }>;
  tenantDefaults: Readonly<{
    timezone: string;
    blockedHours: readonly { start: string; end: string }[];
    /** AI seats each tenant owns (its pool), shared by all its running tasks. */
    aiSeats: number;
    /** Local dates on which no tenant calls anybody. */
    holidays: readonly string[];
    /** Calls to one number per local day / 7 local days across all tasks (0 = no cap). */
    frequencyCap: Readonly<{ perDay: number; perWeek: number }>;
  }>;
  observability: Readonly<{
    /** Bearer token `/metrics` requires; unset = `/metrics` is public (like /health). */
    metricsToken?: string;
    /** host:port where the worker's Temporal runtime serves Prometheus metrics; '' = not exported. */
    workerMetricsBind: string;
    /** OpenTelemetry tracing through the Temporal interceptors (off by default). */
    tracing: Readonly<{ enabled: boolean; endpoint: string }>;
  }>;
}>;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.values(o).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
}

/** Validate `env` once; throws {@link ConfigError} naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset" so that `FOO= cmd` falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  return deepFreeze({
    logLevel: e.LOG_LEVEL,
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      keys: e.API_KEYS,
      usesDevKey: e.API_KEYS.some((k) => k.key === DEV_API_KEY),
    },
    mongodbUri: e.MONGODB_URI,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      mediaTaskQueue: e.TEMPORAL_MEDIA_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
      searchAttributes: e.TEMPORAL_SEARCH_ATTRIBUTES === 'true',
    },
    ari: { url: e.ARI_URL.replace(/\/$/, ''), username: e.ARI_USERNAME, password: e.ARI_PASSWORD, app: e.ARI_APP },
    sip: { trunkEndpoint: e.SIP_TRUNK_ENDPOINT, defaultTarget: e.SIP_DEFAULT_TARGET, routes: e.SIP_ROUTES },
    call: {
      ringTimeoutSeconds: e.RING_TIMEOUT_SECONDS,
      maxCallSeconds: e.MAX_CALL_SECONDS,
      defaultPrompt: e.DEFAULT_PROMPT,
    },
    transfer: {
      queueTimeoutSeconds: e.TRANSFER_QUEUE_TIMEOUT_SECONDS,
      agentRingSeconds: e.AGENT_RING_SECONDS,
      timeoutPrompt: e.TRANSFER_TIMEOUT_PROMPT,
    },
    recordings: { retentionDays: e.RECORDING_RETENTION_DAYS },
    asr: {
      ...(e.ASR_URL ? { url: e.ASR_URL } : {}),
      sampleRate: e.ASR_SAMPLE_RATE === '8000' ? 8000 : 16000,
      rtpHost: e.MEDIA_RTP_HOST,
      rtpPorts: e.MEDIA_RTP_PORTS,
    },
    tts: { chroot: e.TTS_CHROOT, soundsDir: e.TTS_SOUNDS_DIR.replace(/\/$/, ''), voice: e.TTS_VOICE },
    lists: { maxContactsPerTask: e.LIST_MAX_CONTACTS, maxFileBytes: e.LIST_MAX_FILE_MB * 1024 * 1024 },
    tenantDefaults: {
      timezone: e.DEFAULT_TIMEZONE,
      blockedHours: e.BLOCKED_HOURS,
      aiSeats: e.TENANT_AI_SEATS,
      holidays: e.HOLIDAYS.split(',').filter(Boolean),
      frequencyCap: { perDay: e.FREQUENCY_CAP_PER_DAY, perWeek: e.FREQUENCY_CAP_PER_WEEK },
    },
    observability: {
      ...(e.METRICS_TOKEN ? { metricsToken: e.METRICS_TOKEN } : {}),
      workerMetricsBind: e.WORKER_METRICS_BIND,
      tracing: { enabled: e.OTEL_TRACING === 'true', endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT },
    },
  });
}

/** Entry-point helper: load or print the one-line error and exit 1. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
