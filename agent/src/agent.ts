import path from 'node:path';
import type { Logger } from 'pino';
import { VigilError, type CollectorMessageBody, type GoodbyeReason, type HostFacts, type ScreenlockSetting } from '@vigil/shared/agent';
import type { z } from 'zod';
import type { AgentConfig } from './config.js';
import { Outbox } from './outbox/outbox.js';
import { collectFacts, desktopUsers, guarded, type Facts } from './probes/collect-facts.js';
import { isUnknown, type ProbeOutcome, type ProbeSources } from './probes/probe.js';
import { readScreenlock } from './probes/screenlock/index.js';
import { readSessions, SessionSampler } from './probes/sessions/index.js';
import { UsbWatcher } from './probes/usb/index.js';
import { PeriodicChange } from './reporters/periodic-change.js';
import { SoftwareReporter } from './reporters/software-reporter.js';
import { ensureStateDir, loadCredentials, removeCredentials, saveCredentials, type Credentials } from './state/credentials.js';
import { Backoff } from './transport/backoff.js';
import { CollectorLink } from './transport/collector-link.js';
import { enrol } from './transport/enrol.js';

export interface AgentDeps {
  config: AgentConfig;
  log: Logger;
  version: string;
  sources: ProbeSources;
  collectHostFacts(agentVersion: string): Promise<HostFacts>;
}

export interface Agent {
  /** Enrol if needed, queue a snapshot, connect, watch and report. Resolves once started. */
  start(): Promise<void>;
  /** Say goodbye, deliver what can be delivered within `graceMs`, close everything. */
  stop(reason: z.infer<typeof GoodbyeReason>, graceMs?: number): Promise<void>;
}

/** Build the agent without starting it; main.ts starts it and handles signals. */
export function createAgent(deps: AgentDeps): Agent {
  const { config, log, version, sources } = deps;
  let outbox: Outbox | undefined;
  let link: CollectorLink | undefined;
  let stopped = false;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let enrolTimer: NodeJS.Timeout | undefined;
  let idleThresholdSeconds = 900;
  let lastHost = '';
  let currentFacts: Facts | undefined;
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

  // --- watchers: each reports only changes, so a steady machine sends nothing but heartbeats.
  let usb: UsbWatcher | undefined;
  const software = new SoftwareReporter(sources, {
    checkIntervalMs: config.softwareCheckSeconds * 1000,
    fullIntervalMs: config.softwareFullSeconds * 1000,
    onDiff: (diff) => append('software.changed', diff),
  });
  const sessions = new SessionSampler(sources, {
    intervalMs: config.sessionIntervalSeconds * 1000,
    idleThresholdSeconds,
    onChange: (s) => {
      if (currentFacts) currentFacts.sessions = s;
      append('session.state', { sessions: s });
    },
  });
  const screenlock = new PeriodicChange<ProbeOutcome<ScreenlockSetting>>({
    intervalMs: config.screenlockIntervalSeconds * 1000,
    read: async () => guarded('screenlock', sources, async () => readScreenlock(sources, await desktopUsers(sources, currentFacts?.sessions ?? (await readSessions(sources, idleThresholdSeconds))))),
    key: (v) => JSON.stringify(v),
    onChange: (settings) => append('screenlock.state', { settings }),
    onError: (err) => log.warn({ err: (err as Error).message }, 'screen-lock check failed'),
  });

  async function snapshot(): Promise<Facts> {
    const facts = await collectFacts(sources, { version, idleThresholdSeconds, collectHostFacts: deps.collectHostFacts });
    currentFacts = facts;
    lastHost = JSON.stringify(facts.host);
    append('snapshot', facts);
    return facts;
  }

  /** Hourly: host facts (hostname, addresses, users) changed → a fresh full snapshot. */
  const hostCheck = new PeriodicChange<HostFacts>({
    intervalMs: config.snapshotIntervalSeconds * 1000,
    read: () => deps.collectHostFacts(version),
    key: (h) => JSON.stringify(h),
    onChange: (h) => {
      if (JSON.stringify(h) !== lastHost) void snapshot().catch((err: unknown) => log.warn({ err }, 'snapshot failed'));
    },
    onError: (err) => log.warn({ err: (err as Error).message }, 'host facts check failed'),
  });

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
    if (c.idleThresholdSeconds !== idleThresholdSeconds) {
      idleThresholdSeconds = c.idleThresholdSeconds;
      sessions.setIdleThreshold(idleThresholdSeconds);
    }
    log.debug({ config: c }, 'configuration from the collector');
  }

  async function onCommand(cmd: CollectorMessageBody<'command'>): Promise<void> {
    log.info({ command: cmd.kind, id: cmd.id }, 'command from the collector');
    try {
      if (cmd.kind === 'collect-now') await snapshot();
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
        const host = currentFacts?.host ?? (await deps.collectHostFacts(version));
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
      const facts = await snapshot();
      usb = new UsbWatcher(sources, {
        intervalMs: 1000,
        // No USB bus here (a VM, a container): keep polling in case one appears, but load no native hotplug module.
        hotplug: !isUnknown(facts.usb),
        onAttached: (device) => append('usb.attached', { device, present: false }),
        onDetached: (device) => append('usb.detached', { key: device.key, busPath: device.busPath, device }),
      });
      await usb.start(isUnknown(facts.usb) ? [] : facts.usb);
      await software.start(facts.software);
      sessions.start(facts.sessions);
      screenlock.start(facts.screenlock);
      hostCheck.start(facts.host);
      await ensureEnrolled();
    },

    async stop(reason, graceMs = 3000) {
      if (stopped) return;
      stopped = true;
      clearInterval(heartbeatTimer);
      clearTimeout(enrolTimer);
      hostCheck.stop();
      screenlock.stop();
      sessions.stop();
      software.stop();
      await usb?.stop();
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
