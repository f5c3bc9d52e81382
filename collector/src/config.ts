import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { AUDIT_DEFAULT_PERIOD_DAYS, AuditSampleRequest, LIMITS, parseOptions, type AuditSampleRequestParsed, type OptionSpec, type ParsedOptions } from '@vigil/shared';
import { parsePolicy } from './policy/parse-policy.js';

/**
 * The only place the collector reads its environment and flags. Every setting has a flag and a
 * VIGIL_* variable; flags win; every problem is reported at once.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const SERVE_OPTIONS = {
  host: { flag: 'host', env: 'VIGIL_HOST', type: 'string', description: 'listen address', defaultText: '127.0.0.1' },
  port: { flag: 'port', env: 'VIGIL_PORT', type: 'number', description: 'listen port (0 picks a free one)', defaultText: '8470' },
  dataDir: { flag: 'data-dir', env: 'VIGIL_DATA_DIR', type: 'string', description: 'directory for the SQLite file and state', defaultText: './data' },
  adminToken: { flag: 'admin-token', env: 'VIGIL_ADMIN_TOKEN', type: 'string', description: 'on first start, the admin API token instead of a generated one' },
  adminPassword: { flag: 'admin-password', env: 'VIGIL_ADMIN_PASSWORD', type: 'string', description: "on first start, the first admin user's password instead of a generated one" },
  enrolSecret: { flag: 'enrol-secret', env: 'VIGIL_ENROL_SECRET', type: 'string', description: 'on first start, the first enrolment secret instead of a generated one' },
  policyFile: { flag: 'policy-file', env: 'VIGIL_POLICY_FILE', type: 'string', description: 'policy document loaded at start; a new policy version if it differs' },
  retentionDays: { flag: 'retention-days', env: 'VIGIL_RETENTION_DAYS', type: 'number', description: 'days events and samples are kept', defaultText: '180' },
  heartbeatSeconds: { flag: 'heartbeat-seconds', env: 'VIGIL_HEARTBEAT_SECONDS', type: 'number', description: 'heartbeat interval sent to agents', defaultText: '30' },
  idleThresholdSeconds: { flag: 'idle-threshold-seconds', env: 'VIGIL_IDLE_THRESHOLD_SECONDS', type: 'number', description: "idle time after which agents report a session as idle (lowered per host to its policy's unattended threshold)", defaultText: '900' },
  evaluationSeconds: { flag: 'evaluation-seconds', env: 'VIGIL_EVALUATION_SECONDS', type: 'number', description: 'how often time-driven rules run (unattended terminals, silent agents, expiries)', defaultText: '10' },
  maxFrameBytes: { flag: 'max-frame-bytes', env: 'VIGIL_MAX_FRAME_BYTES', type: 'number', description: 'largest agent frame accepted', defaultText: String(LIMITS.frameBytes) },
  tlsCert: { flag: 'tls-cert', env: 'VIGIL_TLS_CERT', type: 'string', description: 'PEM certificate: serve HTTPS/WSS (with --tls-key)' },
  tlsKey: { flag: 'tls-key', env: 'VIGIL_TLS_KEY', type: 'string', description: 'PEM private key for --tls-cert' },
  behindTlsProxy: { flag: 'behind-tls-proxy', env: 'VIGIL_BEHIND_TLS_PROXY', type: 'boolean', description: 'allow a plaintext non-loopback listener because a TLS proxy fronts it', defaultText: 'false' },
  dbSynchronous: { flag: 'db-synchronous', env: 'VIGIL_DB_SYNCHRONOUS', type: 'string', description: "SQLite's synchronous setting: full syncs every commit to disk before agents are acknowledged; normal saves an fsync per batch and survives a collector crash, but an OS crash, a power cut or a filesystem that fails (turns read-only after an error) can lose the last commits, already acknowledged", defaultText: 'full' },
  gatewayWorkers: { flag: 'gateway-workers', env: 'VIGIL_GATEWAY_WORKERS', type: 'number', description: 'processes that accept connections and hold the agents\' ones, beside this one (the only writer to the database, which serves the API and dashboard they pass on): 0 does it all here, up to about 19,000 agents with 20,000 open files; each worker adds as many. Plain HTTP only (TLS in a proxy)', defaultText: '0' },
  agentFramesPerSecond: { flag: 'agent-frames-per-second', env: 'VIGIL_AGENT_FRAMES_PER_SECOND', type: 'number', description: "frames per second one agent connection may send past its burst (0: no limit); faster, the collector stops reading it until it is back within the limit", defaultText: '2000' },
  agentFrameBurst: { flag: 'agent-frame-burst', env: 'VIGIL_AGENT_FRAME_BURST', type: 'number', description: 'frames one agent connection may send at once before --agent-frames-per-second applies', defaultText: '50000' },
  agentBytesPerSecond: { flag: 'agent-bytes-per-second', env: 'VIGIL_AGENT_BYTES_PER_SECOND', type: 'number', description: 'bytes per second one agent connection may send past its burst (0: no limit)', defaultText: String(4 * 1024 * 1024) },
  agentByteBurst: { flag: 'agent-byte-burst', env: 'VIGIL_AGENT_BYTE_BURST', type: 'number', description: "bytes one agent connection may send at once (the default: a whole default agent outbox)", defaultText: String(64 * 1024 * 1024) },
  agentRateLimitCloseSeconds: { flag: 'agent-rate-limit-close-seconds', env: 'VIGIL_AGENT_RATE_LIMIT_CLOSE_SECONDS', type: 'number', description: 'an agent connection over its rate limit this long without a break is closed (4430), and the agent refused (429) for as long again', defaultText: '60' },
  agentConnectsPerMinute: { flag: 'agent-connects-per-minute', env: 'VIGIL_AGENT_CONNECTS_PER_MINUTE', type: 'number', description: "connection attempts one agent token may make per minute (and at once); past it, refused with 429 until it slows down (0: no limit)", defaultText: '30' },
  logLevel: { flag: 'log-level', env: 'VIGIL_LOG_LEVEL', type: 'string', description: `log level: ${LOG_LEVELS.join(', ')}`, defaultText: 'info' },
  logFormat: { flag: 'log-format', env: 'VIGIL_LOG_FORMAT', type: 'string', description: 'json, or pretty for a human at a terminal', defaultText: 'pretty on a terminal, else json' },
} as const satisfies Record<string, OptionSpec>;

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

const ServeSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8470),
    dataDir: z.string().min(1).default('./data'),
    adminToken: z.string().min(24, 'must be at least 24 characters').max(256).optional(),
    adminPassword: z.string().min(12, 'must be at least 12 characters').max(1024).optional(),
    enrolSecret: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
    policyFile: z.string().min(1).optional(),
    retentionDays: z.number().int().min(1).max(36_500).default(180),
    heartbeatSeconds: z.number().min(0.05).max(86_400).default(30),
    idleThresholdSeconds: z.number().int().min(1).max(86_400).default(900),
    evaluationSeconds: z.number().min(0.05).max(3600).default(10),
    maxFrameBytes: z.number().int().min(4096).max(64 * 1024 * 1024).default(LIMITS.frameBytes),
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    behindTlsProxy: z.boolean().default(false),
    dbSynchronous: z.enum(['normal', 'full']).default('full'),
    gatewayWorkers: z.number().int().min(0).max(64).default(0),
    agentFramesPerSecond: z.number().min(0).max(10_000_000).default(2_000),
    agentFrameBurst: z.number().int().min(1).max(100_000_000).default(50_000),
    agentBytesPerSecond: z.number().min(0).max(1e12).default(4 * 1024 * 1024),
    agentByteBurst: z.number().int().min(4096).max(1e12).default(64 * 1024 * 1024),
    agentRateLimitCloseSeconds: z.number().min(0.1).max(86_400).default(60),
    agentConnectsPerMinute: z.number().min(0).max(1_000_000).default(30),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    logFormat: z.enum(['json', 'pretty']).optional(),
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.tlsCert) !== Boolean(c.tlsKey)) {
      ctx.addIssue({ code: 'custom', path: [c.tlsCert ? 'tlsKey' : 'tlsCert'], message: '--tls-cert and --tls-key go together' });
    }
    if (c.tlsCert && c.gatewayWorkers > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['gatewayWorkers'],
        message: 'gateway workers take over plain TCP sockets: terminate TLS in a proxy (--behind-tls-proxy) instead of --tls-cert/--tls-key, or set 0',
      });
    }
    if (!c.tlsCert && !c.behindTlsProxy && !isLoopback(c.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['host'],
        message: `refusing to listen on non-loopback ${c.host} without TLS: set --tls-cert/--tls-key, or --behind-tls-proxy if a TLS proxy fronts the collector`,
      });
    }
  });

export type ServeConfig = z.infer<typeof ServeSchema> & {
  tls?: { cert: Buffer; key: Buffer };
  policyDocument?: string;
};

export type ConfigResult<T> = { ok: true; config: T; positionals: string[]; help: boolean } | { ok: false; errors: string[]; help: boolean };

const flagOf = (specs: Record<string, OptionSpec>, key: PropertyKey) => {
  const s = specs[String(key)];
  return s ? `--${s.flag}${s.env ? ` (${s.env})` : ''}` : String(key);
};

/** Every schema problem as `--flag (VAR): message`. */
function settingErrors(specs: Record<string, OptionSpec>, result: { success: boolean; error?: z.ZodError }): string[] {
  return result.success || !result.error ? [] : result.error.issues.map((i) => `${flagOf(specs, i.path[0] ?? '')}: ${i.message}`);
}

function readFileSetting(file: string | undefined, name: string, errors: string[]): Buffer | undefined {
  if (!file) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (e) {
    errors.push(`${name}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    return undefined;
  }
}

export function loadServeConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ConfigResult<ServeConfig> {
  const parsed = parseOptions(SERVE_OPTIONS, argv, env);
  const result = ServeSchema.safeParse(parsed.values);
  const errors = [...parsed.errors, ...settingErrors(SERVE_OPTIONS, result)];
  // Files are read even when other settings are wrong, so every problem is reported in one go.
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const cert = readFileSetting(str(parsed.values.tlsCert), '--tls-cert', errors);
  const key = readFileSetting(str(parsed.values.tlsKey), '--tls-key', errors);
  const policy = readFileSetting(str(parsed.values.policyFile), '--policy-file', errors);
  if (policy) {
    // A bad policy file stops the start with every problem listed; nothing half-valid goes in force.
    const checked = parsePolicy(policy.toString('utf8'));
    if (!checked.ok) {
      for (const p of checked.problems) errors.push(`--policy-file (VIGIL_POLICY_FILE): ${p.line ? `line ${p.line}: ` : ''}${p.path}: ${p.message}`);
    }
  }
  if (errors.length || !result.success) return { ok: false, errors, help: parsed.help };
  const config: ServeConfig = { ...result.data, dataDir: path.resolve(result.data.dataDir) };
  if (cert && key) config.tls = { cert, key };
  if (policy) config.policyDocument = policy.toString('utf8');
  return { ok: true, config, positionals: parsed.positionals, help: parsed.help };
}

/** Settings of the admin commands that talk to a running collector's API. */
export const CLIENT_OPTIONS = {
  url: { flag: 'url', env: 'VIGIL_URL', type: 'string', description: 'collector base URL', defaultText: 'http://VIGIL_HOST:VIGIL_PORT' },
  token: { flag: 'token', env: 'VIGIL_API_TOKEN', type: 'string', description: 'API token (admin for revocation)' },
  host: SERVE_OPTIONS.host,
  port: SERVE_OPTIONS.port,
  caCert: { flag: 'ca-cert', env: 'VIGIL_CA_CERT', type: 'string', description: 'CA certificate to trust for an HTTPS collector' },
} as const satisfies Record<string, OptionSpec>;

const ClientSchema = z.object({
  url: z.url().optional(),
  token: z.string().min(1, 'is required').max(256),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(8470),
  caCert: z.string().optional(),
});
export type ClientConfig = { url: string; token: string; ca?: Buffer };

export function loadClientConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ConfigResult<ClientConfig> {
  const parsed = parseOptions(CLIENT_OPTIONS, argv, env);
  return clientConfigFrom(parsed);
}

/** The client settings out of parsed options whose table includes CLIENT_OPTIONS. */
function clientConfigFrom(parsed: ParsedOptions<string>): ConfigResult<ClientConfig> {
  const result = ClientSchema.safeParse(parsed.values);
  const errors = [...parsed.errors, ...settingErrors(CLIENT_OPTIONS, result)];
  if (errors.length || !result.success) return { ok: false, errors, help: parsed.help };
  const c = result.data;
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  const ca = readFileSetting(c.caCert, '--ca-cert', errors);
  if (errors.length) return { ok: false, errors, help: parsed.help };
  return {
    ok: true,
    config: { url: (c.url ?? `http://${host}:${c.port}`).replace(/\/+$/, ''), token: c.token, ...(ca ? { ca } : {}) },
    positionals: parsed.positionals,
    help: parsed.help,
  };
}

/** `audit sample`: the running collector's API settings and what to draw (checked by AuditSampleRequest). */
export const AUDIT_SAMPLE_OPTIONS = {
  ...CLIENT_OPTIONS,
  size: { flag: 'size', type: 'number', description: 'how many hosts to sample' },
  percent: { flag: 'percent', type: 'number', description: 'or: this percentage of the population, rounded up' },
  seed: { flag: 'seed', type: 'string', description: 'the seed (default: 32 random bytes drawn by the collector)' },
  strata: { flag: 'strata', type: 'string', description: 'stratify by platform, group, or platform,group' },
  stratumGroups: { flag: 'stratum-groups', type: 'string', description: 'with --strata group: the groups to split by, comma-separated, in order' },
  perStratum: { flag: 'per-stratum', type: 'number', description: 'a fixed number per stratum instead of a proportional share of --size' },
  from: { flag: 'from', type: 'string', description: 'start of the period under review (ISO 8601)', defaultText: '90 days before now' },
  to: { flag: 'to', type: 'string', description: 'end of the period under review (ISO 8601)', defaultText: 'now' },
  platform: { flag: 'platform', type: 'string', description: 'only hosts on these platforms, comma-separated (linux, win32, darwin)' },
  group: { flag: 'group', type: 'string', description: 'only hosts in any of these groups, comma-separated' },
  pseudonymiseUsers: { flag: 'pseudonymise-users', type: 'boolean', description: 'replace usernames in evidence and exports by per-audit pseudonyms' },
  title: { flag: 'title', type: 'string', description: 'a title for the audit' },
  json: { flag: 'json', type: 'boolean', description: 'print the audit as JSON' },
} as const satisfies Record<string, OptionSpec>;

export type AuditSampleConfig = ConfigResult<{ client: ClientConfig; request: AuditSampleRequestParsed; json: boolean }>;

const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : undefined);

/** Every problem with the command line at once; the request is validated by the same schema as the API's. */
export function loadAuditSampleConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AuditSampleConfig {
  const parsed = parseOptions(AUDIT_SAMPLE_OPTIONS, argv, env);
  const v = parsed.values;
  const client = clientConfigFrom(parsed);
  const errors = client.ok ? [] : [...client.errors];
  if (parsed.positionals.length) errors.push(`audit sample: unexpected argument ${parsed.positionals[0]}`);
  const strataBy = list(v.strata);
  const body: Record<string, unknown> = {
    ...(v.size === undefined ? {} : { size: v.size }),
    ...(v.percent === undefined ? {} : { percent: v.percent }),
    ...(v.seed === undefined ? {} : { seed: v.seed }),
    ...(strataBy
      ? {
          strata: {
            by: strataBy,
            ...(v.stratumGroups === undefined ? {} : { groups: list(v.stratumGroups) }),
            ...(v.perStratum === undefined ? {} : { allocation: 'fixed', perStratum: v.perStratum }),
          },
        }
      : {}),
    ...(v.from !== undefined || v.to !== undefined ? { period: { from: v.from ?? new Date(Date.now() - AUDIT_DEFAULT_PERIOD_DAYS * 86_400_000).toISOString(), to: v.to ?? new Date().toISOString() } } : {}),
    ...(v.platform === undefined ? {} : { platforms: list(v.platform) }),
    ...(v.group === undefined ? {} : { groups: list(v.group) }),
    ...(v.pseudonymiseUsers === undefined ? {} : { pseudonymiseUsers: v.pseudonymiseUsers }),
    ...(v.title === undefined ? {} : { title: v.title }),
  };
  if (v.perStratum !== undefined && !strataBy) errors.push('--per-stratum: needs --strata');
  if (v.stratumGroups !== undefined && !strataBy?.includes('group')) errors.push('--stratum-groups: needs --strata group');
  const request = AuditSampleRequest.safeParse(body);
  if (!request.success) {
    const flags: Record<string, string> = { size: '--size', percent: '--percent', seed: '--seed', strata: '--strata', period: '--from/--to', platforms: '--platform', groups: '--group', title: '--title' };
    for (const i of request.error.issues) {
      const top = String(i.path[0] ?? '');
      const sub = top === 'strata' && i.path[1] === 'perStratum' ? '--per-stratum' : top === 'strata' && i.path[1] === 'groups' ? '--stratum-groups' : (flags[top] ?? (top || 'audit sample'));
      errors.push(`${sub}: ${i.message}`);
    }
  }
  if (errors.length || !client.ok || !request.success) return { ok: false, errors, help: parsed.help };
  return { ok: true, config: { client: client.config, request: request.data, json: v.json === true }, positionals: [], help: parsed.help };
}

/** `audit verify`: reads the data directory's database directly, read-only. */
export const AUDIT_SAMPLE_VERIFY_OPTIONS = {
  dataDir: SERVE_OPTIONS.dataDir,
  json: { flag: 'json', type: 'boolean', description: 'print the result as JSON' },
} as const satisfies Record<string, OptionSpec>;

/** Settings of commands that work on the data directory directly (no running collector needed). */
export const DATA_OPTIONS = {
  dataDir: SERVE_OPTIONS.dataDir,
  role: { flag: 'role', type: 'string', description: 'role: admin, analyst or auditor' },
  name: { flag: 'name', type: 'string', description: 'a name to recognise the token by' },
} as const satisfies Record<string, OptionSpec>;

/** `user add`: writes the data directory's database directly. The password never comes from a flag. */
export const USER_OPTIONS = {
  dataDir: SERVE_OPTIONS.dataDir,
  role: { flag: 'role', type: 'string', description: 'role: admin, analyst or auditor' },
  passwordStdin: { flag: 'password-stdin', type: 'boolean', description: 'read the password from standard input (to its first newline) instead of prompting' },
} as const satisfies Record<string, OptionSpec>;

/** `audit-log verify`: reads the data directory's database directly, read-only. */
export const AUDIT_VERIFY_OPTIONS = {
  dataDir: SERVE_OPTIONS.dataDir,
  expectHead: { flag: 'expect-head', type: 'string', description: 'a published chain head <seq>:<sha256 hex>: fail if the log no longer contains it' },
  json: { flag: 'json', type: 'boolean', description: 'print the result as JSON' },
} as const satisfies Record<string, OptionSpec>;
