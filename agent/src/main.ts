import { formatOptionsHelp } from '@vigil/shared/agent';
import { createAgent } from './agent.js';
import { AGENT_OPTIONS, loadAgentConfig } from './config.js';
import { createLogger } from './logger.js';
import { collectFacts } from './probes/collect-facts.js';
import { createCommandRunner, DEFAULT_PATH } from './probes/command-runner.js';
import { collectHostFacts } from './probes/host-facts.js';
import type { ProbeSources } from './probes/probe.js';
import { VERSION } from './version.js';

/** The only place that reads process.env and handles signals. */

const USAGE = `vigil-agent ${VERSION} — reports this machine's facts to a Vigil collector

Usage:
  vigil-agent run [options]          run the agent (as the service does)
  vigil-agent collect --json         print the current facts snapshot and exit (no collector needed)
  vigil-agent --help | --version

Options:
${formatOptionsHelp(AGENT_OPTIONS)}

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.`;

function fail(errors: string[], code = 2): never {
  process.stderr.write(`vigil-agent: ${errors.length > 1 ? 'invalid configuration:\n' : ''}${errors.map((e) => (errors.length > 1 ? `  - ${e}` : e)).join('\n')}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === '--version') return void process.stdout.write(`${VERSION}\n`);
  if (command !== 'run' && command !== 'collect') fail([`unknown command: ${command} (see --help)`]);

  const loaded = loadAgentConfig(rest, process.env, command === 'run');
  if (loaded.help) return void process.stdout.write(`${USAGE}\n`);
  if (!loaded.ok) fail(loaded.errors);
  const config = loaded.config;

  const pretty = config.logFormat ? config.logFormat === 'pretty' : Boolean(process.stdout.isTTY);
  // `collect` prints JSON on stdout: its log goes to stderr.
  const log = await createLogger(config.logLevel, pretty, command === 'collect' ? 2 : 1);
  const sources: ProbeSources = {
    platform: process.platform,
    sysfsRoot: config.sysfsRoot,
    dpkgStatus: config.dpkgStatus,
    fsRoot: '/',
    runner: createCommandRunner(process.env.PATH || DEFAULT_PATH),
    log,
  };

  if (command === 'collect') {
    const facts = await collectFacts(sources, { version: VERSION, idleThresholdSeconds: 900, collectHostFacts });
    process.stdout.write(`${JSON.stringify(facts, null, 2)}\n`);
    return;
  }

  const agent = createAgent({ config, log, version: VERSION, sources, collectHostFacts });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'stopping');
    agent.stop('stop').then(
      () => {
        // Let the process end on its own: the native USB hotplug module aborts inside process.exit()
        // while its thread winds down. Everything is closed; if something still holds on, go anyway.
        process.exitCode = 0;
        setTimeout(() => process.exit(0), 5000).unref();
      },
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // The agent must keep watching: a stray failure is logged, not fatal.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  try {
    await agent.start();
    log.info({ version: VERSION, collector: config.collectorUrl, stateDir: config.stateDir }, 'vigil agent running');
  } catch (err) {
    const code = (err as { code?: string }).code;
    log.fatal({ code, reason: (err as Error).message }, 'cannot start');
    await agent.stop('stop', 0).catch(() => undefined);
    process.exit(code === 'VIGIL_ERR_CONFIG' ? 2 : 1);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`vigil-agent: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
