import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface AuditHeadOptions {
  /** How often to check whether the head is due (default hourly). */
  checkMs?: number;
  /** How often the head goes out (default daily). */
  everyMs?: number;
}

/**
 * Publishes the audit chain's head (seq and hash of its latest entry) to every notification target
 * once a day, and logs it, so a copy lives outside the database: a rewritten or truncated log no
 * longer contains a head published earlier (`vigil-collector audit-log verify --expect-head`).
 * "Once a day" survives restarts: it goes out when the last one sent is a day old.
 */
export const auditHeadPlugin = fp(
  async function auditHead(app: FastifyInstance, opts: AuditHeadOptions) {
    const every = opts.everyMs ?? DAY_MS;
    const lastSent = app.store.db.prepare<[], { at: number | null }>(`SELECT max(created_at) AS at FROM notification_deliveries WHERE kind = 'audit-head'`);
    let lastLogged = 0;
    const publish = () => {
      try {
        const head = app.store.audit.head();
        if (!head) return;
        const now = Date.now();
        if (now - lastLogged >= every) {
          lastLogged = now;
          app.log.info({ auditHead: { seq: head.seq, hash: head.hash, at: head.at } }, 'audit chain head');
        }
        const last = lastSent.get()?.at ?? null;
        if (last !== null && now - last < every) return;
        const queued = app.store.transaction(() => app.notifications.enqueueAuditHead(head, now));
        if (queued > 0) app.log.info({ seq: head.seq, targets: queued }, 'audit chain head queued for publication');
      } catch (err) {
        app.log.error({ err }, 'publishing the audit chain head failed');
      }
    };
    let timer: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      publish();
      timer = setInterval(publish, opts.checkMs ?? HOUR_MS).unref();
    });
    app.addHook('preClose', async () => clearInterval(timer));
  },
  { name: 'vigil-audit-head', dependencies: ['vigil-store', 'vigil-notifications'] },
);
