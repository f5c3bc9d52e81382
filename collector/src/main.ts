import { formatOptionsHelp, parseOptions, type Audit, type Role } from '@vigil/shared';
import { buildApp } from './app.js';
import { apiRequest } from './cli/api-client.js';
import { AUDIT_VERIFY_HELP, auditLogVerify } from './cli/audit-log-verify.js';
import { AUDIT_SAMPLE_HELP, AUDIT_SAMPLE_VERIFY_HELP, auditSampleVerify, describeAudit } from './cli/audit-sample.js';
import { tokenCreate } from './cli/token-create.js';
import { checkNewUser, userAdd } from './cli/user-add.js';
import { readPassword } from './cli/password-input.js';
import { AUDIT_SAMPLE_OPTIONS, AUDIT_SAMPLE_VERIFY_OPTIONS, AUDIT_VERIFY_OPTIONS, CLIENT_OPTIONS, loadAuditSampleConfig, DATA_OPTIONS, loadClientConfig, loadServeConfig, SERVE_OPTIONS, USER_OPTIONS } from './config.js';
import { checkDataDir } from './db/data-dir-check.js';
import { storageErrorCode } from './db/storage-health.js';
import { openStore } from './db/store.js';
import { tuneHeap } from './heap.js';
import { processStdout } from './log-destination.js';
import { bootstrap, type BootstrapResult } from './services/bootstrap.js';
import { VERSION } from './version.js';

/** The only place that reads process.env, starts the server and handles signals. */

const USAGE = `vigil-collector ${VERSION} — the Vigil collector

Usage:
  vigil-collector serve [options]                 run the collector
  vigil-collector token create --role <role>      create an API token (admin, analyst, auditor)
                  [--name <name>] [--data-dir <dir>]
  vigil-collector user add --role <role> <name>   create a dashboard user; the password is asked for
                  [--password-stdin] [--data-dir <dir>]   (twice, not shown) or read from stdin
  vigil-collector agent revoke <hostId>           revoke a host's agent tokens and retire it
                  [--url <url>] [--token <admin token>]
  vigil-collector audit sample --size <n> | --percent <p>   draw a seeded random sample of hosts
                  [--seed <s>] [--strata platform|group] [--from <iso>] [--to <iso>] [--url <url>] [--token <auditor token>]
  vigil-collector audit verify <audit-id>         re-derive an audit's sample and check it (offline, read-only)
                  [--data-dir <dir>] [--json]
  vigil-collector audit-log verify                check the audit log's hash chain (offline, read-only)
                  [--data-dir <dir>] [--expect-head <seq>:<hash>] [--json]
  vigil-collector --help | <command> --help

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.`;

/** Pending connections the kernel may queue before the collector accepts them. */
const LISTEN_BACKLOG = 4096;

function fail(errors: string[], code = 2): never {
  process.stderr.write(`vigil-collector: ${errors.length > 1 ? 'invalid configuration:\n' : ''}${errors.map((e) => (errors.length > 1 ? `  - ${e}` : e)).join('\n')}\n`);
  process.exit(code);
}

function printFirstRun(r: BootstrapResult, url: string): void {
  const lines: string[] = [];
  if (r.adminToken?.generated) lines.push(`admin API token:    ${r.adminToken.value}`);
  if (r.adminPassword?.generated) lines.push(`admin user:         ${r.adminPassword.user} / ${r.adminPassword.value}`);
  if (r.enrolSecret?.generated) lines.push(`enrolment secret:   ${r.enrolSecret.value}`);
  if (!lines.length) return;
  process.stdout.write(
    [
      '',
      '┌─ Vigil first run: these secrets are shown once and stored only hashed ─',
      ...lines.map((l) => `│ ${l}`),
      `│ try: curl -H "Authorization: Bearer <admin API token>" ${url}/api/v1/hosts`,
      '└─ lost them? `vigil-collector token create --role admin` makes a new token',
      '',
    ].join('\n'),
  );
}

async function serve(argv: string[]): Promise<void> {
  const loaded = loadServeConfig(argv, process.env);
  if (loaded.help) {
    process.stdout.write(`Usage: vigil-collector serve [options]\n\n${formatOptionsHelp(SERVE_OPTIONS)}\n`);
    return;
  }
  if (!loaded.ok) fail(loaded.errors);
  tuneHeap();
  const config = loaded.config;
  const pretty = config.logFormat ? config.logFormat === 'pretty' : Boolean(process.stdout.isTTY);
  // JSON lines go through a destination that never blocks the process (a stdout nobody reads
  // made SIGTERM hang at exit); pino-pretty is for a human at a terminal.
  const jsonLog = pretty ? undefined : processStdout();
  const logStream = pretty
    ? ((await import('pino-pretty')).PinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss' }) as NodeJS.WritableStream)
    : (jsonLog as unknown as NodeJS.WritableStream);

  // A full or read-only disk: refuse to start, with the code, rather than refuse every agent.
  const writable = checkDataDir(config.dataDir);
  if (!writable.ok) fail([`VIGIL_ERR_STORAGE_UNAVAILABLE: ${writable.message}`], 1);
  let store;
  let firstRun: BootstrapResult;
  try {
    store = openStore({ dataDir: config.dataDir, silentAfterMs: Math.max(3 * config.heartbeatSeconds * 1000 + 5000, 15_000), synchronous: config.dbSynchronous });
    firstRun = await bootstrap(store, config);
  } catch (err) {
    const code = storageErrorCode(err);
    if (code) fail([`VIGIL_ERR_STORAGE_UNAVAILABLE: cannot write the database in ${config.dataDir} (${code}): ${(err as Error).message}`], 1);
    if (!store) fail([`cannot open the database in ${config.dataDir}: ${(err as Error).message}`], 1);
    throw err;
  }
  const app = await buildApp({
    store,
    logLevel: config.logLevel,
    ...(logStream ? { logStream } : {}),
    heartbeatSeconds: config.heartbeatSeconds,
    idleThresholdSeconds: config.idleThresholdSeconds,
    evaluationTickMs: config.evaluationSeconds * 1000,
    maxFrameBytes: config.maxFrameBytes,
    retentionDays: config.retentionDays,
    gatewayWorkers: config.gatewayWorkers,
    gateway: {
      rate: {
        framesPerSecond: config.agentFramesPerSecond,
        frameBurst: config.agentFrameBurst,
        bytesPerSecond: config.agentBytesPerSecond,
        byteBurst: config.agentByteBurst,
      },
      rateLimitCloseMs: config.agentRateLimitCloseSeconds * 1000,
      connectsPerMinute: config.agentConnectsPerMinute,
    },
    secureCookies: Boolean(config.tls) || config.behindTlsProxy,
    prettyLogs: pretty,
    ...(config.tls ? { tls: config.tls } : {}),
  });
  if (firstRun.policy?.created) app.log.info({ version: firstRun.policy.version }, 'policy file recorded as a new policy version');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      app.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    app.log.info({ signal }, 'shutting down: no new connections, flushing, closing the database');
    // The last lines get a moment to reach stdout, never longer: a reader that stopped reading must
    // not keep the collector from exiting.
    const exit = (code: number) => void (jsonLog ? jsonLog.flush(1000) : Promise.resolve()).then(() => process.exit(code));
    app.close().then(
      () => exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error during shutdown');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    // A deep accept queue: after a collector restart every agent reconnects within a second, and
    // Node's default (511) overflowed at 10,000 agents (bench/fleet.mjs: storm 6.6 s → 4.4 s).
    const address = await app.gateway.listen({ host: config.host, port: config.port, backlog: LISTEN_BACKLOG });
    app.log.info({ url: address, dataDir: config.dataDir, version: VERSION }, 'vigil collector ready');
    printFirstRun(firstRun, address);
  } catch (err) {
    app.log.fatal({ err }, `cannot listen on ${config.host}:${config.port}`);
    await app.close();
    process.exit(1);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (command === 'serve') return serve(argv.slice(1));

  if (command === 'token' && sub === 'create') {
    const p = parseOptions(DATA_OPTIONS, rest, process.env);
    if (p.help) return void process.stdout.write(`Usage: vigil-collector token create --role <role> [options]\n\n${formatOptionsHelp(DATA_OPTIONS)}\n`);
    if (p.errors.length) fail(p.errors);
    const r = tokenCreate({ dataDir: String(p.values.dataDir ?? './data'), role: p.values.role, name: p.values.name });
    if (!r.ok) fail(r.errors);
    process.stdout.write(r.text);
    return;
  }

  if (command === 'user' && sub === 'add') {
    const p = parseOptions(USER_OPTIONS, rest, process.env);
    if (p.help) return void process.stdout.write(`Usage: vigil-collector user add --role <role> <name> [options]\n\n${formatOptionsHelp(USER_OPTIONS)}\n`);
    if (p.positionals.length > 1) p.errors.push(`user add: give one user name (got ${p.positionals.length})`);
    const [name] = p.positionals;
    // Name and role first: no one should type a password twice to learn the name was wrong.
    const early = checkNewUser(name, p.values.role, undefined);
    if (p.errors.length || early.length) fail([...p.errors, ...early]);
    const password = await readPassword({ fromStdin: p.values.passwordStdin === true, prompt: `password for ${name}` });
    if (!password.ok) fail(password.errors);
    const bad = checkNewUser(name, p.values.role, password.value);
    if (bad.length) fail(bad);
    const r = await userAdd({ dataDir: String(p.values.dataDir ?? './data'), name: name!, role: p.values.role as Role, password: password.value });
    if (!r.ok) fail(r.errors, 1);
    process.stdout.write(r.text);
    return;
  }

  if (command === 'audit-log' && sub === 'verify') {
    const p = parseOptions(AUDIT_VERIFY_OPTIONS, rest, process.env);
    if (p.help) return void process.stdout.write(`Usage: vigil-collector audit-log verify [options]\n\n${AUDIT_VERIFY_HELP}\n\n${formatOptionsHelp(AUDIT_VERIFY_OPTIONS)}\n`);
    if (p.positionals.length) p.errors.push(`audit-log verify: unexpected argument ${p.positionals[0]}`);
    if (p.errors.length) fail(p.errors);
    const onProgress = process.stderr.isTTY && p.values.json !== true ? (n: number) => void process.stderr.write(`\rverified ${n} entries…`) : undefined;
    const r = auditLogVerify({
      dataDir: String(p.values.dataDir ?? './data'),
      expectHead: p.values.expectHead,
      json: p.values.json === true,
      ...(onProgress ? { onProgress } : {}),
    });
    if (onProgress) process.stderr.write('\r\x1b[K');
    if (!r.ok) fail(r.errors);
    process.stdout.write(r.text);
    process.exitCode = r.exitCode;
    return;
  }

  if (command === 'audit' && sub === 'sample') {
    const loaded = loadAuditSampleConfig(rest, process.env);
    if (loaded.help) return void process.stdout.write(`Usage: vigil-collector audit sample --size <n> | --percent <p> [options]\n\n${AUDIT_SAMPLE_HELP}\n\n${formatOptionsHelp(AUDIT_SAMPLE_OPTIONS)}\n`);
    if (!loaded.ok) fail(loaded.errors);
    try {
      const audit = (await apiRequest(loaded.config.client, 'POST', 'api/v1/audits', loaded.config.request)) as Audit;
      process.stdout.write(loaded.config.json ? `${JSON.stringify(audit)}\n` : describeAudit(audit));
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'VIGIL_ERR_INTERNAL';
      fail([`${code}: ${(err as Error).message}`], 1);
    }
    return;
  }

  if (command === 'audit' && sub === 'verify') {
    const p = parseOptions(AUDIT_SAMPLE_VERIFY_OPTIONS, rest, process.env);
    if (p.help) return void process.stdout.write(`Usage: vigil-collector audit verify <audit-id> [options]\n\n${AUDIT_SAMPLE_VERIFY_HELP}\n\n${formatOptionsHelp(AUDIT_SAMPLE_VERIFY_OPTIONS)}\n`);
    if (p.positionals.length > 1) p.errors.push(`audit verify: give one audit id (got ${p.positionals.length})`);
    if (p.errors.length) fail(p.errors);
    const r = auditSampleVerify({ dataDir: String(p.values.dataDir ?? './data'), auditId: p.positionals[0], json: p.values.json === true });
    if (!r.ok) fail(r.errors);
    process.stdout.write(r.text);
    process.exitCode = r.exitCode;
    return;
  }

  if (command === 'agent' && sub === 'revoke') {
    const loaded = loadClientConfig(rest, process.env);
    if (loaded.help) return void process.stdout.write(`Usage: vigil-collector agent revoke <hostId> [options]\n\n${formatOptionsHelp(CLIENT_OPTIONS)}\n`);
    if (!loaded.ok) fail(loaded.errors);
    const hostId = loaded.positionals[0];
    if (!hostId || loaded.positionals.length > 1) fail(['agent revoke: give exactly one host id']);
    try {
      const host = await apiRequest(loaded.config, 'POST', `api/v1/hosts/${encodeURIComponent(hostId)}/revoke`);
      process.stdout.write(`${JSON.stringify(host)}\n`);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'VIGIL_ERR_INTERNAL';
      fail([`${code}: ${(err as Error).message}`], 1);
    }
    return;
  }
  fail([`unknown command: ${[command, sub].filter(Boolean).join(' ')} (see --help)`]);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`vigil-collector: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
