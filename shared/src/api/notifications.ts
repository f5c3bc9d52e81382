import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { RuleId, Severity } from '../rules.js';
import { Alert, AlertAction } from './alerts.js';
import { ListQuery } from './list.js';

/**
 * Outgoing notifications (DESIGN.md: alerts, and the audit chain head sent out daily): where they
 * go (targets), what is sent (payloads), and the durable queue of deliveries with their retries.
 */

export const NOTIFICATION_TARGET_KINDS = ['webhook', 'slack', 'syslog'] as const;
/** `webhook`: generic JSON; `slack`: `{"text": …}` (Slack and Teams incoming webhooks); `syslog`: RFC 5424. */
export const NotificationTargetKind = z.enum(NOTIFICATION_TARGET_KINDS);
export type NotificationTargetKind = z.infer<typeof NotificationTargetKind>;

/** Most targets an organisation may have (each alert change is queued once per target, inside ingest's transaction). */
export const MAX_NOTIFICATION_TARGETS = 32;

/** Header values the API never shows; sending this value back in a PATCH keeps the stored one. */
export const REDACTED = '[redacted]';

/** Headers whose values are credentials: shown as {@link REDACTED}. */
export const SENSITIVE_HEADER = /^(authorization|proxy-authorization|cookie)$|token|secret|key|auth|passw|session|signature/i;

/** Headers Vigil sets itself (or that would break the request): not configurable. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'x-vigil-signature',
  'x-vigil-event',
  'x-vigil-delivery',
]);

const HttpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
  .max(2048)
  .refine((u) => !/^[a-z]+:\/\/[^/?#]*@/i.test(u), 'must not contain credentials (user:password@): put them in a header');

const HeaderName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'must be an HTTP header name')
  .refine((n) => !RESERVED_HEADERS.has(n.toLowerCase()), 'is set by Vigil and cannot be configured');

const WebhookHeaders = z
  .record(HeaderName, z.string().max(1024).regex(/^[\x20-\x7e\t]*$/, 'must be printable ASCII'))
  .refine((h) => Object.keys(h).length <= 16, 'at most 16 headers')
  .refine((h) => new Set(Object.keys(h).map((k) => k.toLowerCase())).size === Object.keys(h).length, 'a header is given twice');

/**
 * Generic JSON webhook. With `secret`, the body is signed: `X-Vigil-Signature: sha256=<hex HMAC-SHA256
 * of the raw body>`. The secret is never shown again (`hasSecret`).
 */
export const WebhookConfig = z
  .object({
    url: HttpUrl,
    headers: WebhookHeaders.default({}),
    secret: z.string().min(16, 'use at least 16 characters').max(256).optional(),
  })
  .strict();
export type WebhookConfig = z.infer<typeof WebhookConfig>;

/** Slack or Microsoft Teams incoming webhook: both take `{"text": …}`. The URL itself is the credential. */
export const SlackConfig = z.object({ url: HttpUrl }).strict();
export type SlackConfig = z.infer<typeof SlackConfig>;

/** RFC 5424 facilities by name. */
export const SYSLOG_FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  console: 14,
  'solaris-cron': 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type SyslogFacilityName = keyof typeof SYSLOG_FACILITIES;
const FACILITY_NAMES = Object.keys(SYSLOG_FACILITIES) as [SyslogFacilityName, ...SyslogFacilityName[]];

/** RFC 5424 syslog to a SIEM, over UDP (one datagram per message) or TCP (RFC 6587 octet counting). */
export const SyslogConfig = z
  .object({
    host: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,253}$/, 'must be a host name or an IP address')
      .refine((h) => !h.startsWith('-'), 'must be a host name or an IP address'),
    port: z.number().int().min(1).max(65535).default(514),
    transport: z.enum(['udp', 'tcp']).default('udp'),
    /** A name (`local0`) or a number 0–23. */
    facility: z.union([z.enum(FACILITY_NAMES), z.number().int().min(0).max(23)]).default('local0'),
    /** RFC 5424 APP-NAME: printable ASCII without spaces. */
    appName: z
      .string()
      .regex(/^[!-~]{1,48}$/, 'must be 1–48 printable ASCII characters without spaces')
      .default('vigil'),
  })
  .strict();
export type SyslogConfig = z.infer<typeof SyslogConfig>;

/** Alert actions sent when a target's filter does not say. */
export const DEFAULT_NOTIFY_ACTIONS = ['opened', 'escalated', 'resolved', 'auto_resolved'] as const satisfies readonly AlertAction[];

const unique = <T>(a: T[]) => [...new Set(a)];

/** Which alert changes a target receives. The audit chain head and test deliveries go to every target. */
export const NotificationFilter = z
  .object({
    /** Only alerts at least this severe. */
    minSeverity: Severity.optional(),
    /** Only these rules (absent: every rule). */
    rules: z.array(RuleId).min(1).max(32).transform(unique).optional(),
    actions: z
      .array(AlertAction)
      .min(1)
      .max(16)
      .transform(unique)
      .default([...DEFAULT_NOTIFY_ACTIONS]),
  })
  .strict();
export type NotificationFilter = z.infer<typeof NotificationFilter>;

const targetName = z.string().trim().min(1).max(LIMITS.label);
const common = { name: targetName, filter: NotificationFilter.default({ actions: [...DEFAULT_NOTIFY_ACTIONS] }), enabled: z.boolean().default(true) };

/** `POST /api/v1/notifications/targets`. */
export const CreateNotificationTargetRequest = z.discriminatedUnion('kind', [
  z.object({ ...common, kind: z.literal('webhook'), config: WebhookConfig }).strict(),
  z.object({ ...common, kind: z.literal('slack'), config: SlackConfig }).strict(),
  z.object({ ...common, kind: z.literal('syslog'), config: SyslogConfig }).strict(),
]);
export type CreateNotificationTargetRequest = z.infer<typeof CreateNotificationTargetRequest>;

/**
 * `PATCH /api/v1/notifications/targets/:id`. `config` is merged into the stored one and the result
 * must be valid for the target's kind (which cannot change): `{"config": {"url": …}}` keeps the
 * secret and headers. `"secret": null` removes the secret; `headers`, when given, replace the
 * stored ones, and a value of {@link REDACTED} keeps the stored value of that header. `filter`, when
 * given, replaces the stored one.
 */
export const UpdateNotificationTargetRequest = z
  .object({
    name: targetName.optional(),
    enabled: z.boolean().optional(),
    filter: NotificationFilter.optional(),
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((r) => Object.values(r).some((v) => v !== undefined), 'give at least one of name, enabled, filter, config');
export type UpdateNotificationTargetRequest = z.infer<typeof UpdateNotificationTargetRequest>;

export const NotificationTargetIdParams = z.object({ id: z.uuid() });
export type NotificationTargetIdParams = z.infer<typeof NotificationTargetIdParams>;

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export const DeliveryStatus = z.enum(DELIVERY_STATUSES);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

export const DeliveryCounts = z.object({ pending: z.number().int(), delivered: z.number().int(), failed: z.number().int() });
export type DeliveryCounts = z.infer<typeof DeliveryCounts>;

const targetView = {
  id: z.uuid(),
  name: z.string(),
  filter: NotificationFilter,
  enabled: z.boolean(),
  createdBy: z.string(),
  createdAt: z.string(),
  /** Deliveries to this target by status. */
  deliveries: DeliveryCounts,
};

/** A target as the API shows it: never the webhook secret, and sensitive header values redacted. */
export const NotificationTarget = z.discriminatedUnion('kind', [
  z.object({ ...targetView, kind: z.literal('webhook'), config: z.object({ url: z.string(), headers: z.record(z.string(), z.string()), hasSecret: z.boolean() }) }),
  z.object({ ...targetView, kind: z.literal('slack'), config: SlackConfig }),
  z.object({ ...targetView, kind: z.literal('syslog'), config: SyslogConfig }),
]);
export type NotificationTarget = z.infer<typeof NotificationTarget>;

/**
 * What is sent, as the generic webhook's JSON body (and what Slack text and syslog lines are made
 * from): an alert change, the audit chain head, or a test.
 */
export const NotificationPayload = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('alert'),
    action: AlertAction,
    /** Live-feed cursor of this change. */
    cursor: z.string(),
    actor: z.string(),
    note: z.string().nullable(),
    /** The alert as it stood after the change. */
    alert: Alert,
  }),
  z.object({ type: z.literal('audit.head'), seq: z.number().int().min(0), hash: z.string(), at: z.string() }),
  z.object({ type: z.literal('test'), at: z.string(), by: z.string() }),
]);
export type NotificationPayload = z.infer<typeof NotificationPayload>;

export const DELIVERY_KINDS = ['alert', 'audit-head', 'test'] as const;
export const DeliveryKind = z.enum(DELIVERY_KINDS);
export type DeliveryKind = z.infer<typeof DeliveryKind>;

/** One queued send to one target, with its retry state. */
export const NotificationDelivery = z.object({
  id: z.number().int(),
  targetId: z.string(),
  targetName: z.string(),
  kind: DeliveryKind,
  /** The alert change's cursor, or the audit log seq. */
  eventSeq: z.number().int().nullable(),
  status: DeliveryStatus,
  /** Sends tried so far (including one in flight). */
  attempts: z.number().int().min(0),
  /** When the next try is due; null once delivered or failed. */
  nextAttemptAt: z.string().nullable(),
  /** Why the most recent failed try failed (kept after a later success). */
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
  payload: NotificationPayload,
});
export type NotificationDelivery = z.infer<typeof NotificationDelivery>;

/** `GET /api/v1/notifications/deliveries`: newest first. */
export const DeliveryListQuery = ListQuery.extend({
  status: DeliveryStatus.optional(),
  targetId: z.uuid().optional(),
});
export type DeliveryListQuery = z.infer<typeof DeliveryListQuery>;
