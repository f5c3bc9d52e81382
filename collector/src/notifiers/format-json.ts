import type { NotificationPayload } from '@vigil/shared';

/**
 * The generic webhook's JSON body: `{type: "alert", action, cursor, actor, note, alert}`,
 * `{type: "audit.head", seq, hash, at}` or `{type: "test", at, by}` (the shared
 * NotificationPayload schema documents it for receivers).
 */
export function formatJson(payload: NotificationPayload): string {
  switch (payload.type) {
    case 'alert': {
      const { action, cursor, actor, note, alert } = payload;
      return JSON.stringify({ type: 'alert', action, cursor, actor, note, alert });
    }
    case 'audit.head':
      return JSON.stringify({ type: 'audit.head', seq: payload.seq, hash: payload.hash, at: payload.at });
    case 'test':
      return JSON.stringify({ type: 'test', at: payload.at, by: payload.by });
  }
}

/** `X-Vigil-Event`: `alert.opened`, `alert.resolved`, …, `audit.head` or `test`. */
export function eventName(payload: NotificationPayload): string {
  return payload.type === 'alert' ? `alert.${payload.action}` : payload.type;
}
