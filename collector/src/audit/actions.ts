import { AUDIT_ACTIONS, type AuditAction } from '@vigil/shared';

/**
 * What goes into the audit log. The list itself lives in @vigil/shared (the API filters on it);
 * this file says how each action is written, so entries stay comparable across call sites.
 *
 * | action                                   | subject              | details (small; never a secret)       |
 * |------------------------------------------|----------------------|---------------------------------------|
 * | policy.changed                           | `policy:<version>`   | {version, sha256, source}             |
 * | alert.opened, .acknowledged, .resolved,  | the alert id         | {rule, hostId, subject, severity,     |
 * |   .auto_resolved, .escalated             |                      |  status, resolution, count, note?}    |
 * | usb.approval.created, .revoked           | the approval id      | {device or product, scope, expiresAt, reason} |
 * | exception.created, .revoked              | the exception id     | {rule, subject, scope, expiresAt, reason} |
 * | host.revoked                             | the host id          | {hostname}                            |
 * | token.created                            | `api-token:<id>`     | {name, role} — never the token        |
 * | user.created                             | `user:<name>`        | {role} — never the password           |
 * | login                                    | `user:<name>`        | {ok, method}                          |
 * | export                                   | what was exported    | {format, filters, rows}; of an audit: |
 * |                                          |   (`audit:<id>`)     |  {exportId, format, sha256, bytes,    |
 * |                                          |                      |   rows, auditLogHead}                 |
 * | audit.sampled                            | `audit:<id>`         | {algorithm, seed, seedGenerated,      |
 * |                                          |                      |  populationSize, populationSha256,    |
 * |                                          |                      |  sampleSize, sampleSha256, period,    |
 * |                                          |                      |  request}                             |
 * | audit.decided                            | `audit:<id>`         | {hostId, decision, comment}           |
 * | audit.closed                             | `audit:<id>`         | {accepted, exception, undecided, comment?} |
 * | notification.target.changed              | the target id        | {change, kind, name}                  |
 *
 * `actor` says who: the principal for people and scripts, `policy-engine` for the engine, `cli`
 * for offline commands run on the data directory. Details over 64 KiB are replaced by their size
 * and SHA-256 (AUDIT_LIMITS), so keep lists short.
 */
export { AUDIT_ACTIONS, type AuditAction };

const KNOWN: ReadonlySet<string> = new Set(AUDIT_ACTIONS);

export function isAuditAction(value: unknown): value is AuditAction {
  return typeof value === 'string' && KNOWN.has(value);
}

/** The actor of offline commands that open the data directory themselves. */
export const CLI_ACTOR = 'cli';
