import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseOptions, type OptionSpec } from '@vigil/shared/agent';

/**
 * The only place the agent reads its environment and flags. Every setting has a flag and a
 * VIGIL_* variable; flags win; every problem is reported at once.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const AGENT_OPTIONS = {
  collectorUrl: { flag: 'collector-url', env: 'VIGIL_COLLECTOR_URL', type: 'string', description: 'collector base URL, e.g. https://vigil.example.org:8470' },
  enrolSecret: { flag: 'enrol-secret', env: 'VIGIL_ENROL_SECRET', type: 'string', description: 'enrolment secret (needed until the agent has enrolled)' },
  stateDir: { flag: 'state-dir', env: 'VIGIL_STATE_DIR', type: 'string', description: 'token and outbox (0700)', defaultText: 'the platform service directory' },
  caCert: { flag: 'ca-cert', env: 'VIGIL_CA_CERT', type: 'string', description: 'PEM CA to trust (pin) for the collector' },
  sysfsRoot: { flag: 'sysfs-root', env: 'VIGIL_SYSFS_ROOT', type: 'string', description: 'root of the sysfs tree read for USB', defaultText: '/sys' },
  dpkgStatus: { flag: 'dpkg-status', env: 'VIGIL_DPKG_STATUS', type: 'string', description: 'dpkg status file', defaultText: '/var/lib/dpkg/status' },
  snapshotIntervalSeconds: { flag: 'snapshot-interval-seconds', env: 'VIGIL_SNAPSHOT_INTERVAL_SECONDS', type: 'number', description: 're-read host facts this often; a snapshot is sent only if they changed', defaultText: '3600' },
  sessionIntervalSeconds: { flag: 'session-interval-seconds', env: 'VIGIL_SESSION_INTERVAL_SECONDS', type: 'number', description: 'sample session lock/idle state this often (sent only on change)', defaultText: '15' },
  softwareCheckSeconds: { flag: 'software-check-seconds', env: 'VIGIL_SOFTWARE_CHECK_SECONDS', type: 'number', description: 'check the package databases for changes this often', defaultText: '60' },
  softwareFullSeconds: { flag: 'software-full-seconds', env: 'VIGIL_SOFTWARE_FULL_SECONDS', type: 'number', description: 're-read the software inventory this often even without a change', defaultText: '21600' },
  screenlockIntervalSeconds: { flag: 'screenlock-interval-seconds', env: 'VIGIL_SCREENLOCK_INTERVAL_SECONDS', type: 'number', description: 're-read screen-lock settings this often (sent only on change)', defaultText: '300' },
  reconnectMaxSeconds: { flag: 'reconnect-max-seconds', env: 'VIGIL_RECONNECT_MAX_SECONDS', type: 'number', description: 'longest wait between reconnection attempts', defaultText: '60' },
  outboxMaxBytes: { flag: 'outbox-max-bytes', env: 'VIGIL_OUTBOX_MAX_BYTES', type: 'number', description: 'disk budget of the outbox journal', defaultText: String(64 * 1024 * 1024) },
  logLevel: { flag: 'log-level', env: 'VIGIL_LOG_LEVEL', type: 'string', description: `log level: ${LOG_LEVELS.join(', ')}`, defaultText: 'info' },
  logFormat: { flag: 'log-format', env: 'VIGIL_LOG_FORMAT', type: 'string', description: 'json, or pretty for a human at a terminal', defaultText: 'pretty on a terminal, else json' },
  json: { flag: 'json', type: 'boolean', description: 'collect: print JSON (the only format for now)' },
} as const satisfies Record<string, OptionSpec>;

export function defaultStateDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'win32') return path.join(env.ProgramData ?? 'C:\\ProgramData', 'Vigil', 'agent');
  if (platform === 'darwin') return '/Library/Application Support/Vigil/agent';
  return '/var/lib/vigil-agent';
}

const Schema = z.object({
  collectorUrl: z
    .url({ protocol: /^(http|https)$/, error: 'must be an http:// or https:// URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  enrolSecret: z.string().min(1).max(256).optional(),
  stateDir: z.string().min(1).optional(),
  caCert: z.string().min(1).optional(),
  sysfsRoot: z.string().min(1).default('/sys'),
  dpkgStatus: z.string().min(1).default('/var/lib/dpkg/status'),
  snapshotIntervalSeconds: z.number().min(1).max(7 * 86_400).default(3600),
  sessionIntervalSeconds: z.number().min(1).max(3600).default(15),
  softwareCheckSeconds: z.number().min(1).max(86_400).default(60),
  softwareFullSeconds: z.number().min(60).max(30 * 86_400).default(21_600),
  screenlockIntervalSeconds: z.number().min(5).max(86_400).default(300),
  reconnectMaxSeconds: z.number().min(0.1).max(3600).default(60),
  outboxMaxBytes: z.number().int().min(64 * 1024).default(64 * 1024 * 1024),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  logFormat: z.enum(['json', 'pretty']).optional(),
  json: z.boolean().default(false),
});

export type AgentConfig = Omit<z.infer<typeof Schema>, 'stateDir' | 'caCert'> & { stateDir: string; ca?: Buffer };

export type ConfigResult = { ok: true; config: AgentConfig; positionals: string[]; help: boolean } | { ok: false; errors: string[]; help: boolean };

/** `requireCollector`: `run` needs a collector URL; `collect` does not. */
export function loadAgentConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, requireCollector = true): ConfigResult {
  const parsed = parseOptions(AGENT_OPTIONS, argv, env);
  const errors = [...parsed.errors];
  const r = Schema.safeParse(parsed.values);
  if (!r.success) {
    for (const i of r.error.issues) {
      const spec = AGENT_OPTIONS[String(i.path[0]) as keyof typeof AGENT_OPTIONS] as OptionSpec | undefined;
      errors.push(`${spec ? `--${spec.flag}${spec.env ? ` (${spec.env})` : ''}` : String(i.path[0])}: ${i.message}`);
    }
  } else if (requireCollector && !r.data.collectorUrl) {
    errors.push('--collector-url (VIGIL_COLLECTOR_URL): is required');
  }
  let ca: Buffer | undefined;
  const caPath = parsed.values.caCert;
  if (typeof caPath === 'string' && caPath) {
    try {
      ca = fs.readFileSync(caPath);
    } catch (e) {
      errors.push(`--ca-cert (VIGIL_CA_CERT): cannot read ${caPath}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (errors.length || !r.success) return { ok: false, errors, help: parsed.help };
  const { caCert: _ca, stateDir, ...rest } = r.data;
  return {
    ok: true,
    config: { ...rest, stateDir: path.resolve(stateDir ?? defaultStateDir()), ...(ca ? { ca } : {}) },
    positionals: parsed.positionals,
    help: parsed.help,
  };
}
