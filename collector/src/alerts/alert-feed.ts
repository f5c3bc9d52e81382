import type { Alert, AlertFilter } from '@vigil/shared';
import type { AlertChange } from './alert-lifecycle.js';

/** Whether an alert (on a host in `groups`) passes the REST list's filters. */
export function alertMatches(filter: AlertFilter, alert: Alert, groups: readonly string[]): boolean {
  if (filter.status && !filter.status.includes(alert.status)) return false;
  if (filter.rule && !filter.rule.includes(alert.rule)) return false;
  if (filter.severity && !filter.severity.includes(alert.severity)) return false;
  if (filter.hostId && alert.hostId !== filter.hostId) return false;
  if (filter.group && !groups.includes(filter.group)) return false;
  if (filter.since && Date.parse(alert.updatedAt) < Date.parse(filter.since)) return false;
  return true;
}

export type FeedListener = (change: AlertChange) => void;

/**
 * The live alert feed inside one collector: committed alert changes, in cursor order, to every
 * subscriber. Resuming from a cursor (replaying what a subscriber missed from `alert_events`) is
 * the stream route's job; this only fans out what happens now.
 */
export class AlertFeed {
  private readonly listeners = new Set<FeedListener>();

  get subscribers(): number {
    return this.listeners.size;
  }

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(changes: readonly AlertChange[]): void {
    for (const change of changes) for (const l of this.listeners) l(change);
  }
}
