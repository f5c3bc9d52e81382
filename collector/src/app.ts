import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Store } from './db/store.js';
import { loggerOptions } from './logger.js';
import { agentGatewayPlugin } from './plugins/agent-gateway.js';
import type { FrameRateSettings } from './services/frame-rate-limit.js';
import { authPlugin } from './plugins/auth.js';
import { metricsPlugin } from './plugins/metrics.js';
import { errorsPlugin, sendError } from './plugins/errors.js';
import { storePlugin } from './plugins/store.js';
import { notificationsPlugin, type NotificationsOptions } from './plugins/notifications.js';
import { notificationRoutes } from './routes/notifications.js';
import { policyEnginePlugin } from './plugins/policy-engine.js';
import { auditHeadPlugin, type AuditHeadOptions } from './plugins/audit-head.js';
import { alertRoutes } from './routes/alerts.js';
import { approvalRoutes } from './routes/approvals.js';
import { policyRoutes } from './routes/policy.js';
import { auditLogRoutes } from './routes/audit-log.js';
import { auditRoutes } from './routes/audits.js';
import { enrolRoutes } from './routes/enrol.js';
import { healthRoutes } from './routes/health.js';
import { hostRoutes } from './routes/hosts.js';
import { retentionPlugin } from './plugins/retention.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { overviewRoutes } from './routes/overview.js';
import { sessionRoutes } from './routes/session.js';
import { softwareRoutes } from './routes/software.js';
import { storageHealthPlugin, type StorageHealthOptions } from './plugins/storage-health.js';

export interface AppOptions {
  store: Store;
  logLevel?: string;
  /** A pino-compatible destination for logs (tests capture them). */
  logStream?: NodeJS.WritableStream;
  heartbeatSeconds?: number;
  idleThresholdSeconds?: number;
  maxFrameBytes?: number;
  retentionDays?: number;
  tls?: { cert: Buffer; key: Buffer };
  /** When the audit chain head is published (tests use short intervals). */
  auditHead?: AuditHeadOptions;
  /** How often the time-driven rules (unattended terminals, silent agents, expiries) run, ms. */
  evaluationTickMs?: number;
  /** Overrides for the agent gateway's limits (tests use small ones). */
  gateway?: {
    maxBadFrames?: number;
    headTimeoutMs?: number;
    helloTimeoutMs?: number;
    maxInflight?: number;
    maxConnectionsPerProcess?: number;
    /** Per-connection frame rate limits (see services/frame-rate-limit.ts). */
    rate?: FrameRateSettings;
    /** A connection over its rate limit this long without a break is closed, and its agent refused as long again (ms). */
    rateLimitCloseMs?: number;
    /** Connection attempts one agent token may make per minute (0: no limit). */
    connectsPerMinute?: number;
  };
  /** Gateway worker processes holding agents' sockets (0, the default: this process holds them). Not with `tls`. */
  gatewayWorkers?: number;
  /** Whether gateway workers log for a human (pino-pretty) rather than JSON lines. */
  prettyLogs?: boolean;
  /** The gateway workers' log level when not `logLevel` (they write to stdout, not to `logStream`). */
  gatewayLogLevel?: string;
  /** How a full or read-only disk is probed for recovery (tests use short intervals). */
  storageHealth?: StorageHealthOptions;
  /** Mark the dashboard session cookie Secure (TLS here or in a proxy in front). */
  secureCookies?: boolean;
  /** Outgoing notifications: retries, timeouts, or `dispatch: false` to only queue. */
  notifications?: NotificationsOptions;
}

/** One registered route: its method, URL pattern and zod schemas. */
export interface RouteSummary {
  method: string;
  url: string;
  schema: { body?: unknown; params?: unknown; querystring?: unknown };
  websocket: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered, in order (HEAD routes Fastify adds for GET included). */
    routeTable: readonly RouteSummary[];
  }
}

/** Build the collector without starting it: tests use inject() and close(); main.ts listens. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const logger = loggerOptions(opts.logLevel ?? 'info');
  const fastifyOpts: FastifyServerOptions & { https?: { cert: Buffer; key: Buffer } } = {
    logger: opts.logStream ? { ...logger, stream: opts.logStream } : logger,
    bodyLimit: 1024 * 1024,
    // Slow or stuck clients must not hold sockets forever.
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Errors the router raises before any route or hook (a path that is not valid percent-encoded
    // UTF-8): coded like every other error, not Fastify's own body.
    frameworkErrors: (err, _request, reply) => {
      void sendError(reply, 'VIGIL_ERR_VALIDATION', err.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid (bad percent-encoding)' : 'The request could not be routed');
    },
    ...(opts.tls ? { https: opts.tls } : {}),
  };
  const app = Fastify(fastifyOpts) as unknown as FastifyInstance;
  // Every route as registered, with its schemas: the hardening tests walk it (each route's auth, fuzzed bodies).
  const routeTable: RouteSummary[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      routeTable.push({ method: String(method), url: r.url, schema: (r.schema ?? {}) as RouteSummary['schema'], websocket: Boolean((r as { websocket?: boolean }).websocket) });
    }
  });
  app.decorate('routeTable', routeTable);
  // Every answer is what its Content-Type says (API JSON carries device and package text an attacker
  // chose): browsers must not sniff it into HTML. Routes that set their own headers keep them.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!reply.hasHeader('x-content-type-options')) reply.header('x-content-type-options', 'nosniff');
    return payload;
  });

  await app.register(errorsPlugin);
  await app.register(storePlugin, { store: opts.store });
  await app.register(authPlugin);
  await app.register(metricsPlugin);
  await app.register(storageHealthPlugin, opts.storageHealth ?? {});
  await app.register(notificationsPlugin, opts.notifications ?? {});
  await app.register(policyEnginePlugin, {
    heartbeatSeconds: opts.heartbeatSeconds ?? 30,
    ...(opts.evaluationTickMs === undefined ? {} : { tickMs: opts.evaluationTickMs }),
  });
  await app.register(agentGatewayPlugin, {
    heartbeatSeconds: opts.heartbeatSeconds ?? 30,
    idleThresholdSeconds: opts.idleThresholdSeconds ?? 900,
    maxFrameBytes: opts.maxFrameBytes ?? 2 * 1024 * 1024,
    workers: opts.gatewayWorkers ?? 0,
    workerLogLevel: opts.gatewayLogLevel ?? opts.logLevel ?? 'info',
    prettyLogs: opts.prettyLogs ?? false,
    ...opts.gateway,
  });
  await app.register(auditHeadPlugin, opts.auditHead ?? {});
  await app.register(retentionPlugin, { retentionDays: opts.retentionDays ?? 180 });
  await app.register(healthRoutes);
  await app.register(enrolRoutes);
  await app.register(sessionRoutes, { secureCookies: opts.secureCookies ?? Boolean(opts.tls) });
  await app.register(overviewRoutes);
  await app.register(dashboardRoutes, {});
  await app.register(hostRoutes);
  await app.register(alertRoutes);
  await app.register(approvalRoutes);
  await app.register(policyRoutes);
  await app.register(softwareRoutes);
  await app.register(auditLogRoutes);
  await app.register(auditRoutes);
  await app.register(notificationRoutes);
  return app;
}
