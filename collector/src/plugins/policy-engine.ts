import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AlertFeed } from '../alerts/alert-feed.js';
import type { AlertSinks } from '../alerts/alert-lifecycle.js';
import { PolicyEngine } from '../alerts/policy-engine.js';

declare module 'fastify' {
  interface FastifyInstance {
    engine: PolicyEngine;
    alertFeed: AlertFeed;
  }
}

export interface PolicyEngineOptions {
  heartbeatSeconds: number;
  /** How often the time-driven rules run (ms). */
  tickMs?: number;
  sinks?: AlertSinks;
}

/**
 * The policy engine and the live feed it publishes to. Loads the policy in force at start, queues
 * every host for judging, runs the time-driven rules on a timer, and stops before the store closes.
 */
export const policyEnginePlugin = fp(
  async function policyEngine(app: FastifyInstance, opts: PolicyEngineOptions) {
    const engine = new PolicyEngine(app.store, {
      heartbeatSeconds: opts.heartbeatSeconds,
      log: app.log,
      ...(opts.tickMs === undefined ? {} : { tickMs: opts.tickMs }),
      sinks: {
        // Every alert state change and every approval, exception and policy change joins the audit chain.
        audit: (entry, now) => void app.store.audit.append(entry, now),
        // Queued in the same transaction; sent after it commits, never blocking ingest.
        notify: (change, now) =>
          void app.notifications.enqueueAlert({ cursor: String(change.cursor), action: change.action, actor: change.actor, note: change.note, alert: change.alert }, now),
        ...opts.sinks,
      },
    });
    const feed = new AlertFeed();
    engine.onChanges((changes) => {
      for (const c of changes) app.metrics.alertChanged(c.action);
      feed.publish(changes);
    });
    engine.load();
    app.decorate('engine', engine);
    app.decorate('alertFeed', feed);
    app.addHook('onReady', async () => engine.start());
    app.addHook('preClose', async () => engine.stop());
  },
  { name: 'vigil-policy-engine', dependencies: ['vigil-store', 'vigil-metrics', 'vigil-notifications'] },
);
