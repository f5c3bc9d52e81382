import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { RuleId, Severity } from '../rules.js';
import { ListQuery } from './list.js';

/**
 * Alerts as the REST API and the live feed show them (DESIGN.md, "Alerts"). One open alert per
 * (host, rule, subject); `open → acknowledged → resolved` by a person, or `auto_resolved` when the
 * condition clears by itself.
 */

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved', 'auto_resolved'] as const;
export const AlertStatus = z.enum(ALERT_STATUSES);
export type AlertStatus = z.infer<typeof AlertStatus>;

/**
 * Why an alert was closed. A person picks `approved`, `removed`, `false_positive`, `fixed` or
 * `other`; the engine sets `approved` (a USB approval covered it), `excepted` (an exception
 * accepted it), `cleared` (the condition cleared: auto_resolved) and `host_retired`.
 */
export const RESOLUTIONS = ['approved', 'removed', 'false_positive', 'fixed', 'other', 'excepted', 'cleared', 'host_retired'] as const;
export const Resolution = z.enum(RESOLUTIONS);
export type Resolution = z.infer<typeof Resolution>;
/** What a person may give when resolving by hand. */
export const ManualResolution = z.enum(['approved', 'removed', 'false_positive', 'fixed', 'other']);

/**
 * What happened to an alert in one change (its history, and the feed): `bumped` — the breach
 * happened again; `escalated` — its severity rose; `updated` — its details changed (a licence
 * count, a device unplugged) or its severity fell; the rest are state changes.
 */
export const ALERT_ACTIONS = ['opened', 'bumped', 'escalated', 'updated', 'acknowledged', 'resolved', 'auto_resolved'] as const;
export const AlertAction = z.enum(ALERT_ACTIONS);
export type AlertAction = z.infer<typeof AlertAction>;

export const Alert = z.object({
  id: z.uuid(),
  rule: RuleId,
  /** null for fleet-wide alerts such as licence.over_deployed. */
  hostId: z.uuid().nullable(),
  hostname: z.string().nullable(),
  /** What breached, stable and readable: `usb:0781:5567:<serial>`, a software title, `session:alice@seat0`. */
  subject: z.string(),
  severity: Severity,
  status: AlertStatus,
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  /** Occurrences: a second attach of the same stick bumps it. */
  count: z.number().int().min(1),
  details: z.record(z.string(), z.unknown()),
  /** Recorded while the host's policy was monitor-only: nobody was notified. */
  monitorOnly: z.boolean(),
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  resolution: Resolution.nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  note: z.string().nullable(),
  updatedAt: z.string(),
  /** Live-feed cursor of the alert's latest change. */
  cursor: z.string(),
});
export type Alert = z.infer<typeof Alert>;

export const AlertHistoryEntry = z.object({
  cursor: z.string(),
  at: z.string(),
  action: AlertAction,
  actor: z.string(),
  note: z.string().nullable(),
  status: AlertStatus,
  severity: Severity,
  count: z.number().int(),
});
export type AlertHistoryEntry = z.infer<typeof AlertHistoryEntry>;

export const AlertWithHistory = Alert.extend({ history: z.array(AlertHistoryEntry) });
export type AlertWithHistory = z.infer<typeof AlertWithHistory>;

/** `a,b,c` or a repeated parameter, each checked against `item`. */
const csv = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => {
    const parts = (Array.isArray(v) ? v : [v]).flatMap((x) => (typeof x === 'string' ? x.split(',') : [x]));
    const cleaned = parts.map((p) => (typeof p === 'string' ? p.trim() : p)).filter((p) => p !== '');
    return cleaned.length ? cleaned : undefined;
  }, z.array(item).max(32).optional());

/** Filters shared by the REST list and the live feed. */
export const AlertFilter = z.object({
  status: csv(AlertStatus),
  rule: csv(RuleId),
  hostId: z.uuid().optional(),
  group: z.string().min(1).max(LIMITS.label).optional(),
  severity: csv(Severity),
  /** Changed at or after (ISO 8601). */
  since: z.iso.datetime({ offset: true }).optional(),
});
export type AlertFilter = z.infer<typeof AlertFilter>;

export const AlertListQuery = ListQuery.extend(AlertFilter.shape);
export type AlertListQuery = z.infer<typeof AlertListQuery>;

/** `/api/v1/alerts/stream?cursor=`: resume after this cursor (0 or absent: only what happens from now). */
export const AlertStreamQuery = AlertFilter.extend({
  cursor: z.string().regex(/^\d{1,15}$/, 'must be a cursor from an earlier frame').optional(),
});
export type AlertStreamQuery = z.infer<typeof AlertStreamQuery>;

/** One live-feed frame. */
export const AlertFeedFrame = z.object({ cursor: z.string(), action: AlertAction, alert: Alert });
export type AlertFeedFrame = z.infer<typeof AlertFeedFrame>;

export const AlertIdParams = z.object({ id: z.uuid() });

const note = z.string().trim().min(1).max(LIMITS.message);

export const AcknowledgeAlertRequest = z.object({ note: note.optional() }).default({});
export const ResolveAlertRequest = z.object({ resolution: ManualResolution, note: note.optional() });

/** Which hosts an approval or an exception covers. */
export const CoverageScope = z.union([
  z.object({ all: z.literal(true) }).strict(),
  z.object({ hostId: z.uuid() }).strict(),
  z.object({ groups: z.array(z.string().trim().min(1).max(LIMITS.label)).min(1).max(LIMITS.groups) }).strict(),
]);
export type CoverageScope = z.infer<typeof CoverageScope>;

const hexId = (digits: number) =>
  z
    .string()
    .toLowerCase()
    .regex(new RegExp(`^[0-9a-f]{${digits}}$`), `must be ${digits} hex digits`);

const futureTime = z.iso.datetime({ offset: true });

/**
 * `POST /api/v1/usb/approvals`: approve one device (`deviceKey`), a whole product
 * (`vendorId` + `productId`), or what an alert names (`alertId`, with `match: device | product`).
 * Scope defaults to the alert's host when approving from an alert; otherwise it must be given.
 */
export const CreateUsbApprovalRequest = z
  .object({
    alertId: z.uuid().optional(),
    match: z.enum(['device', 'product']).default('device'),
    deviceKey: z.string().min(1).max(512).optional(),
    vendorId: hexId(4).optional(),
    productId: hexId(4).optional(),
    scope: CoverageScope.optional(),
    expiresAt: futureTime.optional(),
    reason: note,
  })
  .superRefine((r, ctx) => {
    const ways = [r.alertId !== undefined, r.deviceKey !== undefined, r.vendorId !== undefined || r.productId !== undefined].filter(Boolean).length;
    if (ways !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of alertId, deviceKey, or vendorId with productId' });
    if ((r.vendorId === undefined) !== (r.productId === undefined)) ctx.addIssue({ code: 'custom', path: ['productId'], message: 'vendorId and productId go together' });
    if (r.alertId === undefined && r.scope === undefined) ctx.addIssue({ code: 'custom', path: ['scope'], message: 'scope is required unless approving from an alert' });
  });
export type CreateUsbApprovalRequest = z.infer<typeof CreateUsbApprovalRequest>;

/** `POST /api/v1/usb/approvals/baseline`: approve every device present now on a host or in groups. */
export const UsbBaselineRequest = z.object({
  scope: z.union([z.object({ hostId: z.uuid() }).strict(), z.object({ groups: z.array(z.string().trim().min(1).max(LIMITS.label)).min(1).max(LIMITS.groups) }).strict()]),
  expiresAt: futureTime.optional(),
  reason: note,
});
export type UsbBaselineRequest = z.infer<typeof UsbBaselineRequest>;

/** What approvals and exceptions both record: where, why, who, when, and whether still in force. */
const recordFields = {
  scope: CoverageScope,
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  alertId: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
  /** Not revoked and not expired. */
  active: z.boolean(),
};

export const UsbApproval = z.object({
  id: z.uuid(),
  deviceKey: z.string().nullable(),
  vendorId: z.string().nullable(),
  productId: z.string().nullable(),
  expiresAt: z.string().nullable(),
  ...recordFields,
});
export type UsbApproval = z.infer<typeof UsbApproval>;

export const ApprovalListQuery = ListQuery.extend({ active: z.enum(['true', 'false']).optional(), hostId: z.uuid().optional() });
export type ApprovalListQuery = z.infer<typeof ApprovalListQuery>;

/**
 * `POST /api/v1/exceptions`: accept a breach for a while. From an alert (`alertId`: that rule and
 * subject, on that host unless `scope` says otherwise) or by `rule` (+ optional `subject`, absent:
 * every subject of the rule) with a scope. An exception always expires.
 */
export const CreateExceptionRequest = z
  .object({
    alertId: z.uuid().optional(),
    rule: RuleId.optional(),
    subject: z.string().min(1).max(1024).optional(),
    scope: CoverageScope.optional(),
    expiresAt: futureTime,
    reason: note,
  })
  .superRefine((r, ctx) => {
    if ((r.alertId === undefined) === (r.rule === undefined)) ctx.addIssue({ code: 'custom', message: 'give either alertId or rule' });
    if (r.alertId !== undefined && r.subject !== undefined) ctx.addIssue({ code: 'custom', path: ['subject'], message: 'the subject comes from the alert' });
    if (r.alertId === undefined && r.scope === undefined) ctx.addIssue({ code: 'custom', path: ['scope'], message: 'scope is required unless excepting an alert' });
  });
export type CreateExceptionRequest = z.infer<typeof CreateExceptionRequest>;

export const PolicyException = z.object({
  id: z.uuid(),
  rule: RuleId,
  subject: z.string().nullable(),
  expiresAt: z.string(),
  ...recordFields,
});
export type PolicyException = z.infer<typeof PolicyException>;

export const ExceptionListQuery = ListQuery.extend({ active: z.enum(['true', 'false']).optional() });
export type ExceptionListQuery = z.infer<typeof ExceptionListQuery>;

export const IdParams = z.object({ id: z.uuid() });
