import type { Alert, AlertAction, NotificationPayload, SlackConfig, SyslogConfig, WebhookConfig } from '@vigil/shared';

/** One alert change, as the engine hands it over (in the same transaction as the change). */
export interface AlertNotice {
  /** Live-feed cursor of this change (the alert_events seq). */
  cursor: string;
  action: AlertAction;
  actor: string;
  note: string | null;
  /** The alert as it stood after the change. */
  alert: Alert;
}

/** The audit log's chain head, sent out so a rewritten database is detectable from outside. */
export interface AuditHead {
  seq: number;
  hash: string;
  /** ISO 8601 time of the head entry. */
  at: string;
}

/** A target as the dispatcher sees it: with its secret. Never returned by the API. */
export type StoredTarget =
  | { id: string; name: string; kind: 'webhook'; config: WebhookConfig }
  | { id: string; name: string; kind: 'slack'; config: SlackConfig }
  | { id: string; name: string; kind: 'syslog'; config: SyslogConfig };

/** One claimed delivery, ready to send. */
export interface OutgoingDelivery {
  id: number;
  /** Tries so far, including this one. */
  attempts: number;
  target: StoredTarget;
  payload: NotificationPayload;
}

/** How one kind of target is reached. `send` resolves once the receiver has the message, or rejects. */
export interface Transport {
  send(delivery: OutgoingDelivery, signal: AbortSignal): Promise<void>;
  /** Release sockets (on shutdown). */
  close(): void;
}
