import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Dispatcher, type DispatcherTuning, type RetryPolicy } from '../notifiers/dispatcher.js';
import { createSyslogTransport } from '../notifiers/syslog.js';
import type { AlertNotice, AuditHead } from '../notifiers/types.js';
import { createWebhookTransport } from '../notifiers/webhook.js';
import { VERSION } from '../version.js';

export interface Notifications {
  /**
   * Queue an alert change for every enabled target whose filter takes it; returns how many
   * deliveries were queued. Call it inside the transaction that records the change (it is
   * synchronous and cheap); sending starts after that transaction commits.
   */
  enqueueAlert(notice: AlertNotice, now: number): number;
  /** Queue the audit chain head for every enabled target (same contract as enqueueAlert). */
  enqueueAuditHead(head: AuditHead, now: number): number;
  /** Look at the queue at once. */
  kick(): void;
  readonly dispatcher: Dispatcher;
}

declare module 'fastify' {
  interface FastifyInstance {
    notifications: Notifications;
  }
}

export interface NotificationsOptions {
  /** Send queued deliveries (default true). False: queue only (tools, and tests that inspect the queue). */
  dispatch?: boolean;
  retry?: Partial<RetryPolicy>;
  /** Concurrency, timeouts and polling (tests use small values). */
  tuning?: Partial<DispatcherTuning>;
  /** HOSTNAME of syslog messages (default: this machine's host name). */
  syslogHostname?: string;
}

/**
 * Outgoing notifications: the durable delivery queue (in the store) and the dispatcher that
 * empties it to webhooks, Slack/Teams and syslog. Queueing happens in the engine's transaction;
 * sending never blocks ingest. The dispatcher starts when the app is ready and stops (letting
 * in-flight sends finish briefly) before the store closes.
 */
export const notificationsPlugin = fp(
  async function notifications(app: FastifyInstance, opts: NotificationsOptions) {
    const repo = app.store.notifications;
    const webhook = createWebhookTransport({ userAgent: `vigil-collector/${VERSION}` });
    const dispatcher = new Dispatcher({
      queue: repo,
      transports: { webhook, slack: webhook, syslog: createSyslogTransport(opts.syslogHostname ? { hostname: opts.syslogHostname } : {}) },
      log: app.log.child({ component: 'notifications' }),
      ...(opts.retry ? { retry: opts.retry } : {}),
      ...(opts.tuning ? { tuning: opts.tuning } : {}),
    });

    app.decorate('notifications', {
      enqueueAlert(notice: AlertNotice, now: number): number {
        const n = repo.enqueueAlert(notice, now);
        if (n > 0) dispatcher.kick();
        return n;
      },
      enqueueAuditHead(head: AuditHead, now: number): number {
        const n = repo.enqueueAuditHead(head, now);
        if (n > 0) dispatcher.kick();
        return n;
      },
      kick: () => dispatcher.kick(),
      dispatcher,
    } satisfies Notifications);

    if (opts.dispatch ?? true) app.addHook('onReady', async () => dispatcher.start());
    app.addHook('preClose', async () => dispatcher.stop());
  },
  { name: 'vigil-notifications', dependencies: ['vigil-store'] },
);
