import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Role } from '@vigil/shared';
import { CollectorMetrics } from '../metrics/collector-metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: CollectorMetrics;
  }
}

/**
 * `GET /metrics`: Prometheus text exposition, for any API token (Prometheus:
 * `authorization: {type: Bearer, credentials_file: …}`). The metrics live in this app's own
 * registry; the gateway, ingest queue and engine count into `app.metrics`, and the gauges of
 * state read the app's services when scraped. Registered before those services so they can use it.
 */
export const metricsPlugin = fp(
  async function metrics(app: FastifyInstance) {
    const metrics = new CollectorMetrics({
      agentsConnected: () => app.gateway.connections.size,
      agentOutbox: () => {
        let pending = 0;
        let dropped = 0;
        for (const c of app.gateway.connections.values()) {
          pending += c.lastHeartbeat?.outbox.pending ?? 0;
          dropped += c.lastHeartbeat?.counters.dropped ?? 0;
        }
        return { pending, dropped };
      },
      ingestQueueLength: () => app.gateway.queue.length,
      openAlerts: () => app.store.alerts.countOpenByRuleAndSeverity(),
      policyEvaluationFailures: () => app.engine.stats.failures,
      policyBacklog: () => app.engine.backlog,
      alertFeedSubscribers: () => app.alertFeed.subscribers,
      notificationDeliveries: () => app.store.notifications.counts(),
      gatewayWorkers: () => app.gateway.workerStatus(),
    });
    app.decorate('metrics', metrics);

    app.addHook('onResponse', async (request, reply) => {
      metrics.httpResponse(request.method, request.routeOptions.url ?? '(unmatched)', reply.statusCode);
    });

    app.get('/metrics', { preHandler: app.requireRole(...Role.options) }, async (_request, reply) => {
      const text = await metrics.scrape();
      return reply.type(metrics.contentType).send(text);
    });
  },
  { name: 'vigil-metrics', dependencies: ['vigil-store', 'vigil-auth'] },
);
