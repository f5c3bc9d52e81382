import path from 'node:path';
import type { Logger } from 'pino';
import { VigilError, type CollectorMessageBody, type GoodbyeReason, type HostFacts } from '@vigil/shared';
import type { z } from 'zod';
import type { AgentConfig } from './config.js';
import { Outbox } from './outbox/outbox.js';
import { ensureStateDir, loadCredentials, removeCredentials, saveCredentials, type Credentials } from './state/credentials.js';
import { Backoff } from './transport/backoff.js';
import { CollectorLink } from './transport/collector-link.js';
import { enrol } from './transport/enrol.js';

export interface AgentDeps {
  config: AgentConfig;
  log: Logger;
  version: string;
  collectHostFacts(agentVersion: string): Promise<HostFacts>;
}

export interface Agent {
  /** Enrol if needed, queue a snapshot, connect, report. Resolves once started. */
  start(): Promise<void>;
  /** Say goodbye, deliver what can be delivered within `graceMs`, close everything. */
  stop(reason: z.infer<typeof GoodbyeReason>, graceMs?: number): Promise<void>;
}

/** Build the agent without starting it; main.ts starts it and handles signals. */
export function createAgent(deps: AgentDeps): Agent {
  const { config, log, version } = deps;
  let outbox: Outbox | undefined;
  let link: CollectorLink | undefined;
  let stopped = false;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let snapshotTimer: NodeJS.Timeout | undefined;
  let enrolTimer: NodeJS.Timeout | undefined;
  let lastFacts = '';
  let currentFacts: HostFacts | undefined;
  const startedAt = Date.now();

  const box = (): Outbox => {
    if (!outbox) throw new Error('agent not started');
    return outbox;
  };

  const append: Outbox['append'] = (type, body, now) => {
    const env = box().append(type, body, now);
    link?.notify();
    return env;
  };

  async function snapshot(force: boolean): Promise<void> {
    const host = await deps.collectHostFacts(version);
    currentFacts = host;
    const text = JSON.stringify(host);
    if (!force && text === lastFacts) return;
    lastFacts = text;
    append('snapshot', { host });
  }

  function heartbeat(): void {
    if (!link?.connected) return;
    const o = box();
    append('heartbeat', {
      counters: o.counters(),
      droppedByType: o.droppedByType(),
      outbox: { pending: o.stats().pending, bytes: o.stats().bytes },
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      rssBytes: process.memoryUsage.rss(),
    });
  }

  function onConfig(c: CollectorMessageBody<'config'>): void {
    clearInterval(heartbeatTimer);
    heartbeatTimer = setInterval(heartbeat, c.heartbeatSeconds * 1000);
    log.debug({ config: c }, 'configuration from the collector');
  }

  async function onCommand(cmd: CollectorMessageBody<'command'>): Promise<void> {
    log.info({ command: cmd.kind, id: cmd.id }, 'command from the collector');
    try {
      if (cmd.kind === 'collect-now') await snapshot(true);
      append('command.result', { commandId: cmd.id, kind: cmd.kind, status: 'ok' });
    } catch (err) {
      append('command.result', { commandId: cmd.id, kind: cmd.kind, status: 'error', message: (err as Error).message.slice(0, 500) });
    }
  }

  function connect(creds: Credentials): void {
    link = new CollectorLink({
      collectorUrl: config.collectorUrl as string,
      agentId: creds.agentId,
      hostId: creds.hostId,
      agentToken: creds.agentToken,
      agentVersion: version,
      ca: config.ca,
      outbox: box(),
      log,
      reconnectMaxMs: config.reconnectMaxSeconds * 1000,
      onConfig,
      onCommand: (cmd) => void onCommand(cmd),
      onTokenUnknown: () => {
        // The collector has no record of this token (its database was replaced): enrol afresh.
        log.warn('the collector does not know this agent: enrolling again');
        removeCredentials(config.stateDir);
        const old = link;
        link = undefined;
        void old?.stop().then(() => ensureEnrolled());
      },
    });
    link.start();
  }

  async function ensureEnrolled(): Promise<void> {
    const existing = loadCredentials(config.stateDir);
    if (existing) return connect(existing);
    if (!config.enrolSecret) {
      throw new VigilError('VIGIL_ERR_CONFIG', 'this agent has not enrolled yet: --enrol-secret (VIGIL_ENROL_SECRET) is required');
    }
    const backoff = new Backoff(1000, config.reconnectMaxSeconds * 1000);
    const attempt = async (): Promise<void> => {
      if (stopped) return;
      try {
        const host = currentFacts ?? (await deps.collectHostFacts(version));
        const r = await enrol({ collectorUrl: config.collectorUrl as string, secret: config.enrolSecret as string, host, ca: config.ca });
        saveCredentials(config.stateDir, { ...r, collectorUrl: config.collectorUrl as string, enrolledAt: new Date().toISOString() });
        log.info({ agentId: r.agentId, hostId: r.hostId }, 'enrolled');
        connect(r as Credentials);
      } catch (err) {
        const delay = backoff.next();
        const code = err instanceof VigilError ? err.code : 'VIGIL_ERR_INTERNAL';
        log[code === 'VIGIL_ERR_COLLECTOR_UNREACHABLE' ? 'warn' : 'error']({ code, reason: (err as Error).message, retryInMs: delay }, 'enrolment failed');
        enrolTimer = setTimeout(() => void attempt(), delay);
      }
    };
    await attempt();
  }

  return {
    async start() {
      ensureStateDir(config.stateDir);
      outbox = Outbox.open({ dir: path.join(config.stateDir, 'outbox'), maxBytes: config.outboxMaxBytes, logger: log });
      const s = outbox.stats();
      if (s.pending) log.info({ pending: s.pending }, 'unsent messages from an earlier run will be delivered');
      // Facts go into the outbox before anything else, so nothing depends on the collector being up.
      await snapshot(true);
      snapshotTimer = setInterval(() => void snapshot(false).catch((err: unknown) => log.warn({ err }, 'snapshot failed')), config.snapshotIntervalSeconds * 1000);
      await ensureEnrolled();
    },

    async stop(reason, graceMs = 3000) {
      if (stopped) return;
      stopped = true;
      clearInterval(heartbeatTimer);
      clearInterval(snapshotTimer);
      clearTimeout(enrolTimer);
      if (outbox) {
        append('goodbye', { reason });
        const delivered = link?.connected ? await link.waitForDrain(graceMs) : false;
        if (!delivered) log.info({ pending: outbox.stats().pending }, 'stopping with messages still queued; they will be sent on the next start');
      }
      await link?.stop();
      if (outbox) {
        log.info({ counters: outbox.counters(), droppedByType: outbox.droppedByType(), pending: outbox.stats().pending }, 'agent stopped');
        outbox.close();
      }
    },
  };
}
