import type { Store } from '../db/store.js';

/** Data minimisation: events and rejections older than the retention period are deleted. */
export function purgeExpired(store: Store, retentionDays: number, now = Date.now()): { messages: number; rejected: number } {
  const before = now - retentionDays * 86_400_000;
  return store.transaction(() => ({
    messages: store.db.prepare('DELETE FROM messages WHERE received_at < ?').run(before).changes,
    rejected: store.db.prepare('DELETE FROM rejected_messages WHERE received_at < ?').run(before).changes,
  }));
}
