import type { Store } from '../db/store.js';

/** Rows deleted per transaction, so a large purge never holds the write lock for long. */
const BATCH = 5_000;

export interface PurgeResult {
  messages: number;
  rejected: number;
  alerts: number;
  alertEvents: number;
  deliveries: number;
}

/**
 * Data minimisation: what is older than the retention period is deleted, in batches — agent
 * messages, rejected frames, closed alerts and their history, delivered or failed notifications.
 * Open and acknowledged alerts keep their whole history however old, and the audit log is never
 * purged (its hash chain must stay whole).
 */
export function purgeExpired(store: Store, retentionDays: number, now = Date.now()): PurgeResult {
  const before = now - retentionDays * 86_400_000;
  const inBatches = (sql: string): number => {
    const stmt = store.db.prepare(sql);
    let total = 0;
    for (;;) {
      const n = store.transaction(() => stmt.run(before, BATCH).changes);
      total += n;
      if (n < BATCH) return total;
    }
  };
  return {
    messages: inBatches('DELETE FROM messages WHERE rowid IN (SELECT rowid FROM messages WHERE received_at < ? LIMIT ?)'),
    rejected: inBatches('DELETE FROM rejected_messages WHERE id IN (SELECT id FROM rejected_messages WHERE received_at < ? LIMIT ?)'),
    alertEvents: inBatches(`DELETE FROM alert_events WHERE seq IN (SELECT e.seq FROM alert_events e JOIN alerts a ON a.id = e.alert_id
      WHERE a.status IN ('resolved', 'auto_resolved') AND a.updated_at < ? LIMIT ?)`),
    alerts: inBatches(`DELETE FROM alerts WHERE id IN (SELECT a.id FROM alerts a WHERE a.status IN ('resolved', 'auto_resolved') AND a.updated_at < ?
      AND NOT EXISTS (SELECT 1 FROM alert_events e WHERE e.alert_id = a.id) LIMIT ?)`),
    deliveries: inBatches(`DELETE FROM notification_deliveries WHERE id IN (SELECT id FROM notification_deliveries
      WHERE status IN ('delivered', 'failed') AND created_at < ? LIMIT ?)`),
  };
}
