import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Store } from './db/store.js';
import { loggerOptions } from './logger.js';
import { agentGatewayPlugin } from './plugins/agent-gateway.js';
import { authPlugin } from './plugins/auth.js';
import { errorsPlugin } from './plugins/errors.js';
import { storePlugin } from './plugins/store.js';
import { enrolRoutes } from './routes/enrol.js';
import { healthRoutes } from './routes/health.js';
import { hostRoutes } from './routes/hosts.js';
import { retentionPlugin } from './plugins/retention.js';

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
  /** Overrides for the agent gateway's limits (tests use small ones). */
  gateway?: { maxBadFrames?: number; helloTimeoutMs?: number; maxInflight?: number };
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
    ...(opts.tls ? { https: opts.tls } : {}),
  };
  const app = Fastify(fastifyOpts) as unknown as FastifyInstance;

  await app.register(errorsPlugin);
  await app.register(storePlugin, { store: opts.store });
  await app.register(authPlugin);
  await app.register(agentGatewayPlugin, {
    heartbeatSeconds: opts.heartbeatSeconds ?? 30,
    idleThresholdSeconds: opts.idleThresholdSeconds ?? 900,
    maxFrameBytes: opts.maxFrameBytes ?? 2 * 1024 * 1024,
    ...opts.gateway,
  });
  await app.register(retentionPlugin, { retentionDays: opts.retentionDays ?? 180 });
  await app.register(healthRoutes);
  await app.register(enrolRoutes);
  await app.register(hostRoutes);
  return app;
}
