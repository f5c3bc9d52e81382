import { z } from 'zod';
import { ListQuery } from './list.js';

/**
 * The tamper-evident audit log as the REST API shows it (`GET /api/v1/audit-log`,
 * `GET /api/v1/audit-log/head`). The collector's `audit/hash-chain.ts` documents how each entry's
 * hash is computed, so an auditor can re-check entries and published heads.
 */

/** What is recorded. Stable: part of the product (scripts filter on these). */
export const AUDIT_ACTIONS = [
  'policy.changed',
  'alert.opened',
  'alert.acknowledged',
  'alert.resolved',
  'alert.auto_resolved',
  'alert.escalated',
  'usb.approval.created',
  'usb.approval.revoked',
  'exception.created',
  'exception.revoked',
  'host.revoked',
  'token.created',
  'user.created',
  'login',
  'export',
  'notification.target.changed',
  'audit.sampled',
  'audit.decided',
  'audit.closed',
] as const;
export const AuditAction = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof AuditAction>;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

export const AuditLogEntry = z.object({
  seq: z.number().int().min(1),
  at: z.string(),
  /** Who: `api-token:<id>`, `user:<name>`, `policy-engine`, `cli`… */
  actor: z.string(),
  /** One of AUDIT_ACTIONS when written; kept as a plain string so entries from other versions still read. */
  action: z.string(),
  subject: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  prevHash: sha256Hex,
  hash: sha256Hex,
});
export type AuditLogEntry = z.infer<typeof AuditLogEntry>;

/** Newest first. */
export const AuditLogListQuery = ListQuery.extend({
  action: AuditAction.optional(),
  /** Entries at or after this time (ISO 8601). */
  since: z.iso.datetime({ offset: true }).optional(),
});
export type AuditLogListQuery = z.infer<typeof AuditLogListQuery>;

/** The chain head to publish and to verify against later. An empty log: seq 0, the genesis hash, at null. */
export const AuditHead = z.object({
  seq: z.number().int().min(0),
  hash: sha256Hex,
  at: z.string().nullable(),
});
export type AuditHead = z.infer<typeof AuditHead>;
