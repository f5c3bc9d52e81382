import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { ListQuery } from './list.js';

/**
 * Auditor random-sample checks (README "Audits"): a seeded, verifiable random sample of hosts,
 * with an evidence pack per host, auditor decisions, and exports.
 *
 * The sampling algorithm (`vigil-hmac-sha256-v1`) ranks the population by
 * HMAC-SHA256(key = seed as UTF-8, message = host id as UTF-8) in lowercase hex, lowest first,
 * and takes the first n; stratified, each stratum gets its share by largest remainder and is
 * ranked on its own. The collector's `audits/sampling.ts` is the implementation.
 */

export const SAMPLE_ALGORITHM = 'vigil-hmac-sha256-v1' as const;

/** Default period under review: the last 90 days. */
export const AUDIT_DEFAULT_PERIOD_DAYS = 90;
/** Longest period under review (about two years; retention keeps less anyway). */
export const AUDIT_MAX_PERIOD_DAYS = 731;
/** Most hosts in one audit's sample (an evidence pack is built for each). */
export const AUDIT_MAX_SAMPLE = 5000;

export const StratumKey = z.enum(['platform', 'group']);
export type StratumKey = z.infer<typeof StratumKey>;

export const Strata = z
  .strictObject({
    /** Split by OS platform, by group, or both (`platform/group`). */
    by: z.array(StratumKey).min(1).max(2),
    /**
     * With `group`: the groups to split by, in order; a host's stratum is the first of them it
     * belongs to, or `(none)`. Without: the host's first group in sorted order, or `(none)`.
     */
    groups: z.array(z.string().min(1).max(LIMITS.label)).min(1).max(LIMITS.groups).optional(),
    /** `proportional` (the default): `size` shared by largest remainder; `fixed`: `perStratum` from each. */
    allocation: z.enum(['proportional', 'fixed']).default('proportional'),
    perStratum: z.number().int().min(1).max(AUDIT_MAX_SAMPLE).optional(),
  })
  .refine((s) => new Set(s.by).size === s.by.length, { message: 'must not repeat a key', path: ['by'] })
  .refine((s) => s.groups === undefined || s.by.includes('group'), { message: 'groups are only for strata by group', path: ['groups'] })
  .refine((s) => (s.allocation === 'fixed') === (s.perStratum !== undefined), {
    message: 'perStratum is given exactly when allocation is fixed',
    path: ['perStratum'],
  });
export type Strata = z.infer<typeof Strata>;

const isoTime = z.iso.datetime({ offset: true });

export const AuditPeriod = z
  .strictObject({ from: isoTime, to: isoTime })
  .refine((p) => Date.parse(p.from) < Date.parse(p.to), { message: 'from must be before to', path: ['from'] })
  .refine((p) => Date.parse(p.to) - Date.parse(p.from) <= AUDIT_MAX_PERIOD_DAYS * 86_400_000, {
    message: `must span at most ${AUDIT_MAX_PERIOD_DAYS} days`,
    path: ['to'],
  });
export type AuditPeriod = z.infer<typeof AuditPeriod>;

/** `POST /api/v1/audits`: draw a sample. Give `size` or `percent` (not with fixed strata, which set it). */
export const AuditSampleRequest = z
  .strictObject({
    size: z.number().int().min(1).max(AUDIT_MAX_SAMPLE).optional(),
    /** Percent of the population, rounded up (at least one host). */
    percent: z.number().gt(0).max(100).optional(),
    /** Recorded as given; when absent the collector draws 32 random bytes (hex). */
    seed: z
      .string()
      .min(1)
      .max(256)
      .refine((s) => !/[\p{Cc}\p{Cs}]/u.test(s), 'must not contain control characters or lone surrogates (it is re-typed by auditors and stored as UTF-8)')
      .optional(),
    strata: Strata.optional(),
    /** Default: the last 90 days up to the draw. */
    period: AuditPeriod.optional(),
    /** Only hosts on these platforms / in any of these groups (the population filters). */
    platforms: z.array(z.string().min(1).max(LIMITS.label)).min(1).max(16).optional(),
    groups: z.array(z.string().min(1).max(LIMITS.label)).min(1).max(LIMITS.groups).optional(),
    /** Replace usernames in evidence and exports by a per-audit HMAC pseudonym. */
    pseudonymiseUsers: z.boolean().default(false),
    title: z.string().max(LIMITS.label).optional(),
  })
  .refine((r) => r.strata?.allocation === 'fixed' || (r.size === undefined) !== (r.percent === undefined), {
    message: 'give exactly one of size or percent',
    path: ['size'],
  })
  .refine((r) => r.strata?.allocation !== 'fixed' || (r.size === undefined && r.percent === undefined), {
    message: 'fixed strata set the size (perStratum); do not give size or percent',
    path: ['size'],
  });
export type AuditSampleRequest = z.input<typeof AuditSampleRequest>;
export type AuditSampleRequestParsed = z.output<typeof AuditSampleRequest>;

export const AuditDecision = z.enum(['accepted', 'exception']);
export type AuditDecision = z.infer<typeof AuditDecision>;

/** One sampled host: its place in the sample, the fresh-evidence request, and the auditor's decision. */
export const AuditSampleHost = z.object({
  hostId: z.string(),
  hostname: z.string().nullable(),
  stratum: z.string(),
  /** 1-based position within its stratum (lowest HMAC first). */
  rank: z.number().int().min(1),
  /** The HMAC-SHA256 the host was ranked by (hex). */
  hmac: z.string(),
  /** The collect-now command sent at draw time; null if the agent was not connected. */
  commandId: z.string().nullable(),
  /** When the first snapshot after the draw arrived; null if none yet. */
  freshEvidenceAt: z.string().nullable(),
  decision: AuditDecision.nullable(),
  comment: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
});
export type AuditSampleHost = z.infer<typeof AuditSampleHost>;

export const AuditStatus = z.enum(['open', 'closed']);

export const AuditExportRecord = z.object({
  id: z.string(),
  format: z.enum(['json', 'csv', 'html', 'pdf']),
  sha256: z.string(),
  bytes: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string(),
  /** The audit-log entry that records it. */
  auditLogSeq: z.number().int(),
});
export type AuditExportRecord = z.infer<typeof AuditExportRecord>;

export const AuditSummary = z.object({
  id: z.string(),
  title: z.string().nullable(),
  status: AuditStatus,
  createdAt: z.string(),
  createdBy: z.string(),
  closedAt: z.string().nullable(),
  closedBy: z.string().nullable(),
  algorithm: z.string(),
  seed: z.string(),
  /** Whether the seed was drawn by the collector (CSPRNG) rather than given. */
  seedGenerated: z.boolean(),
  period: z.object({ from: z.string(), to: z.string() }),
  strata: z.record(z.string(), z.unknown()).nullable(),
  filters: z.object({ platforms: z.array(z.string()).nullable(), groups: z.array(z.string()).nullable() }),
  pseudonymiseUsers: z.boolean(),
  populationSize: z.number().int(),
  /** SHA-256 of the canonical population (README "Audits"). */
  populationSha256: z.string(),
  sampleSize: z.number().int(),
  sampleSha256: z.string(),
  /** The audit-log entry that recorded the draw. */
  auditLogSeq: z.number().int(),
});
export type AuditSummary = z.infer<typeof AuditSummary>;

export const Audit = AuditSummary.extend({
  /** Every host id of the population at draw time, with its stratum, sorted by host id. */
  population: z.array(z.object({ hostId: z.string(), stratum: z.string() })),
  sample: z.array(AuditSampleHost),
  exports: z.array(AuditExportRecord),
});
export type Audit = z.infer<typeof Audit>;

export const AuditListQuery = ListQuery.extend({ status: AuditStatus.optional() });
export type AuditListQuery = z.infer<typeof AuditListQuery>;

export const AuditIdParams = z.object({ id: z.uuid() });
export type AuditIdParams = z.infer<typeof AuditIdParams>;
export const AuditHostParams = z.object({ id: z.uuid(), hostId: z.uuid() });
export type AuditHostParams = z.infer<typeof AuditHostParams>;

/** `PUT /api/v1/audits/:id/hosts/:hostId/decision`. */
export const AuditDecisionRequest = z.strictObject({
  decision: AuditDecision,
  comment: z.string().trim().min(1, 'a comment is required').max(LIMITS.message),
});
export type AuditDecisionRequest = z.infer<typeof AuditDecisionRequest>;

export const AuditCloseRequest = z.strictObject({ comment: z.string().max(LIMITS.message).optional() }).default({});

export const AuditExportQuery = z.object({ format: z.enum(['json', 'csv', 'html', 'pdf']).default('json') });
export type AuditExportQuery = z.infer<typeof AuditExportQuery>;

/** `GET /api/v1/audits/:id/verify` and `vigil-collector audit verify`. */
export const AuditVerifyResult = z.object({
  auditId: z.string(),
  /** Everything below holds. */
  ok: z.boolean(),
  algorithm: z.string(),
  /** Recomputing from the stored seed and population gives the stored sample. */
  sampleMatches: z.boolean(),
  /** The stored population hashes to the stored population hash. */
  populationMatchesStored: z.boolean(),
  /** ...and to the hash the audit log recorded at draw time (and the sample to its recorded hash). */
  matchesAuditLog: z.boolean(),
  /** The audit log's hash chain is intact. */
  auditLogIntact: z.boolean(),
  populationSha256: z.string(),
  recomputedSample: z.array(z.object({ hostId: z.string(), stratum: z.string() })),
  problems: z.array(z.string()),
});
export type AuditVerifyResult = z.infer<typeof AuditVerifyResult>;

/** A finding in an evidence pack: one row of the CSV export. */
export const EvidenceFinding = z.object({
  kind: z.enum(['software', 'licence', 'usb', 'screenlock', 'alert', 'coverage', 'freshness']),
  subject: z.string(),
  status: z.string(),
  detail: z.string(),
  at: z.string().nullable(),
});
export type EvidenceFinding = z.infer<typeof EvidenceFinding>;

/** An alert of the period under review, as an evidence pack shows it. */
export const EvidenceAlert = z.object({
  id: z.string(),
  rule: z.string(),
  subject: z.string(),
  severity: z.string(),
  status: z.string(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  count: z.number().int(),
  resolution: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  note: z.string().nullable(),
  message: z.string().nullable(),
});
export type EvidenceAlert = z.infer<typeof EvidenceAlert>;

const factAge = z.object({ status: z.enum(['known', 'unknown', 'never']), reportedAt: z.string().nullable(), ageSeconds: z.number().int().nullable(), reason: z.string().nullable() });

/**
 * The evidence pack of one sampled host: only what the policy needs — no logged-in users list,
 * no sessions, no content (README "Audits").
 */
export const HostEvidence = z.object({
  host: z.object({
    id: z.string(),
    hostname: z.string().nullable(),
    platform: z.string().nullable(),
    distro: z.string().nullable(),
    release: z.string().nullable(),
    groups: z.array(z.string()),
    status: z.string(),
    agentVersion: z.string().nullable(),
    firstSeenAt: z.string().nullable(),
    lastSeenAt: z.string().nullable(),
  }),
  stratum: z.string(),
  rank: z.number().int(),
  hmac: z.string(),
  decision: z.object({ decision: AuditDecision.nullable(), comment: z.string().nullable(), decidedBy: z.string().nullable(), decidedAt: z.string().nullable() }),
  freshness: z.object({
    /** When collect-now was sent; null: the agent was not connected at the draw. */
    requestedAt: z.string().nullable(),
    commandId: z.string().nullable(),
    /** The first full snapshot received after the draw; null: none yet (see `facts` for the age of what is known). */
    freshEvidenceAt: z.string().nullable(),
    facts: z.object({ software: factAge, usb: factAge, screenlock: factAge }),
  }),
  software: z.object({
    counts: z.record(z.string(), z.number().int()),
    items: z.array(
      z.object({
        name: z.string(),
        version: z.string(),
        source: z.string(),
        publisher: z.string().nullable(),
        arch: z.string().nullable(),
        status: z.enum(['approved', 'licensed', 'prohibited', 'unapproved']),
        title: z.string().nullable(),
        reason: z.string(),
      }),
    ),
    /** Licensed titles on this host, with the fleet-wide seat use. */
    licences: z.array(z.object({ title: z.string(), seats: z.number().int(), installsFleetWide: z.number().int(), overBy: z.number().int() })),
  }),
  usb: z.object({
    /** Attached or listed in the period, or present now. */
    devices: z.array(
      z.object({
        key: z.string(),
        vendorId: z.string(),
        productId: z.string(),
        manufacturer: z.string(),
        product: z.string(),
        serial: z.string(),
        firstSeenAt: z.string().nullable(),
        lastSeenAt: z.string().nullable(),
        presentNow: z.boolean(),
        approved: z.boolean(),
        allowedBy: z.unknown(),
        reasons: z.array(z.string()),
      }),
    ),
  }),
  screenlock: z.object({
    /** null: the screen lock was never reported or could not be read. */
    compliant: z.boolean().nullable(),
    settings: z.array(
      z.object({
        user: z.string(),
        desktop: z.string().nullable(),
        subject: z.string(),
        enabled: z.unknown(),
        idleTimeoutSeconds: z.unknown(),
        graceSeconds: z.unknown(),
        passwordRequired: z.unknown(),
        breaches: z.array(z.string()),
      }),
    ),
    noncompliantAlerts: z.array(EvidenceAlert),
    unattendedAlerts: z.array(EvidenceAlert),
  }),
  alerts: z.array(EvidenceAlert),
  coverage: z.object({
    messagesStored: z.number().int().nullable(),
    messagesRejected: z.number().int().nullable(),
    counters: z.unknown(),
    gaps: z.array(z.object({ from: z.string(), to: z.string().nullable(), reason: z.string() })),
  }),
  findings: z.array(EvidenceFinding),
});
export type HostEvidence = z.infer<typeof HostEvidence>;

/** `GET /api/v1/audits/:id/report` and the JSON export. */
export const AuditReport = z.object({
  format: z.literal('vigil-audit-report-v1'),
  generatedAt: z.string(),
  /** The audit-log chain head when the report was made (check it later with `audit-log verify --expect-head`). */
  auditLogHead: z.object({ seq: z.number().int().min(0), hash: z.string(), at: z.string().nullable() }),
  policyVersion: z.number().int(),
  audit: Audit,
  hosts: z.array(HostEvidence),
});
export type AuditReport = z.infer<typeof AuditReport>;
