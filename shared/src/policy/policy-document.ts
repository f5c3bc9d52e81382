import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { SoftwareCatalogue } from './software-catalogue.js';
import { Severity, type RuleId } from '../rules.js';

/**
 * The policy document: what the collector judges agents' facts against. Every key has a default,
 * so `{}` is a valid policy (default-deny USB with hubs and internal devices allowed, CIS screen
 * lock limits, derived thresholds, the software catalogue's defaults). Every object is strict, so
 * a misspelt key is an error rather than a silently ignored setting.
 *
 * ```yaml
 * version: 1
 * mode: enforce                  # or monitor-only: alerts are recorded, nobody is notified
 * severities: { usb.unauthorised: high, terminal.unattended: low }   # the rest keep their defaults
 * enabled: { terminal.unattended: true }                              # every rule is on by default
 * usb:
 *   allowHubs: true
 *   allowInternal: true          # devices the OS reports as fixed (non-removable)
 *   allow:
 *     - { vendorId: "046d", note: "Logitech peripherals", scope: { groups: [office] }, expires: 2027-01-01T00:00:00Z }
 *     - { vendorId: "0781", productId: "5581", serial: "4C530001", note: "Finance backup stick" }
 *     - { interfaceClasses: ["03"], note: "keyboards and mice" }
 * screenlock: { maxIdleSeconds: 900, maxGraceSeconds: 5, requirePassword: true }
 * unattended: { thresholdSeconds: null }   # null: screenlock.maxIdleSeconds + 120
 * silent: { thresholdSeconds: null }       # null: 3 × the heartbeat interval
 * software: { … }                          # see software-catalogue.ts
 * overrides:
 *   - { groups: [kiosk], screenlock: { maxIdleSeconds: 300 }, enabled: { terminal.unattended: false } }
 * ```
 *
 * USB ids are quoted strings: unquoted, YAML reads `0781` as the number 781 and the leading zero
 * is lost, so numbers are refused with a message saying so. Hex digits may be given in either
 * case; they are stored lowercase, as agents report them. Times (`expires`) are ISO 8601 strings,
 * kept as written; a bare date means midnight UTC at the start of that day.
 */

export { RULE_IDS, RuleId, SEVERITIES, Severity } from '../rules.js';

/** `enforce`: alerts are recorded and notified. `monitor-only`: recorded, not notified (for rollout). */
export const PolicyMode = z.enum(['enforce', 'monitor-only']);
export type PolicyMode = z.infer<typeof PolicyMode>;

/** Severity of each rule when the policy does not say. */
export const DEFAULT_SEVERITIES: Readonly<Record<RuleId, Severity>> = Object.freeze({
  'usb.unauthorised': 'high',
  'software.unapproved': 'medium',
  'software.prohibited': 'critical',
  'licence.over_deployed': 'medium',
  'screenlock.noncompliant': 'medium',
  'terminal.unattended': 'low',
  'agent.silent': 'medium',
  'agent.cloned': 'high',
});

/** Largest policy document accepted, in UTF-8 bytes (1 MiB). */
export const POLICY_DOCUMENT_MAX_BYTES = 1024 * 1024;

/** A strict object with one optional-or-defaulted entry per rule id. */
const perRule = <T extends z.ZodType>(entry: (id: RuleId) => T) =>
  z.strictObject({
    'usb.unauthorised': entry('usb.unauthorised'),
    'software.unapproved': entry('software.unapproved'),
    'software.prohibited': entry('software.prohibited'),
    'licence.over_deployed': entry('licence.over_deployed'),
    'screenlock.noncompliant': entry('screenlock.noncompliant'),
    'terminal.unattended': entry('terminal.unattended'),
    'agent.silent': entry('agent.silent'),
    'agent.cloned': entry('agent.cloned'),
  });

/** A USB id of `digits` hex digits, given as a string (see the note on quoting above). */
const hexId = (digits: number, example: string) =>
  z
    .string({ error: `must be a quoted string of ${digits} hex digits, e.g. "${example}" (unquoted, YAML reads it as a number)` })
    .toLowerCase()
    .regex(new RegExp(`^[0-9a-f]{${digits}}$`), `must be ${digits} hex digits, e.g. "${example}"`);

/** A group name, as enrolment secrets and admins assign them. */
export const GroupName = z.string().trim().min(1, 'must not be empty').max(LIMITS.label);

/** Whole seconds, one second to thirty days. */
const seconds = (max = 30 * 86_400) => z.number().int('must be a whole number of seconds').min(1).max(max);

/** An expiry instant: ISO 8601 date-time (with `Z` or an offset) or a bare date (midnight UTC). */
export const PolicyTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  error: 'must be an ISO 8601 date-time such as 2027-01-01T00:00:00Z, or a date such as 2027-01-01',
});

/** Which hosts something applies to: a host listed by id, or a host in any listed group. */
export const PolicyScope = z
  .strictObject({
    hostIds: z.array(z.uuid('must be a host id (a UUID)')).min(1).max(10_000).optional(),
    groups: z.array(GroupName).min(1).max(1_000).optional(),
  })
  .refine((s) => s.hostIds !== undefined || s.groups !== undefined, {
    message: 'must list hostIds or groups (leave scope out to apply to all hosts)',
  });
export type PolicyScope = z.infer<typeof PolicyScope>;

/**
 * One USB allow rule. Every criterion given must hold: `vendorId`, then optionally `productId`,
 * then optionally `serial` (exact, case-sensitive); `interfaceClasses` matches only a device whose
 * interfaces are all of the listed classes, so a keyboard that is also a mass-storage device (the
 * BadUSB pattern) does not pass a HID-only rule. No scope: all hosts. Expired rules don't count.
 */
export const UsbAllowRule = z
  .strictObject({
    vendorId: hexId(4, '0781').optional(),
    productId: hexId(4, '5581').optional(),
    serial: z.string().min(1, 'must not be empty').max(256).optional(),
    interfaceClasses: z.array(hexId(2, '03')).min(1, 'must list at least one class').max(64).optional(),
    note: z.string().max(LIMITS.message).optional(),
    scope: PolicyScope.optional(),
    expires: PolicyTime.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.vendorId === undefined && r.interfaceClasses === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must give vendorId or interfaceClasses (a rule without either would allow every device)' });
    }
    if (r.productId !== undefined && r.vendorId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['productId'], message: 'needs vendorId too (a product id means nothing without its vendor)' });
    }
    if (r.serial !== undefined && r.productId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['serial'], message: 'needs vendorId and productId too (serials are only unique per product)' });
    }
  });
export type UsbAllowRule = z.infer<typeof UsbAllowRule>;

export const UsbPolicy = z.strictObject({
  /** Allow hubs and root hubs (devices that only route other devices). */
  allowHubs: z.boolean().default(true),
  /** Allow devices the OS reports as fixed (internal webcams, card readers, Bluetooth). */
  allowInternal: z.boolean().default(true),
  allow: z.array(UsbAllowRule).max(10_000).default([]),
});
export type UsbPolicy = z.infer<typeof UsbPolicy>;

const maxIdleSeconds = seconds(86_400);
const maxGraceSeconds = z.number().int('must be a whole number of seconds').min(0).max(86_400);

export const ScreenlockPolicy = z.strictObject({
  /** Longest idle time before the screen must lock (CIS: 900 s). */
  maxIdleSeconds: maxIdleSeconds.default(900),
  /** Longest delay after the screen blanks before a password is required. */
  maxGraceSeconds: maxGraceSeconds.default(5),
  requirePassword: z.boolean().default(true),
});
export type ScreenlockPolicy = z.infer<typeof ScreenlockPolicy>;

export const UnattendedPolicy = z.strictObject({
  /** Idle and unlocked for longer than this raises `terminal.unattended`; null: maxIdleSeconds + 120. */
  thresholdSeconds: seconds().nullable().default(null),
});
export type UnattendedPolicy = z.infer<typeof UnattendedPolicy>;

export const SilentPolicy = z.strictObject({
  /** No frame for this long without a goodbye raises `agent.silent`; null: 3 × the heartbeat interval. */
  thresholdSeconds: seconds().nullable().default(null),
});
export type SilentPolicy = z.infer<typeof SilentPolicy>;

/**
 * Settings for hosts in any of `groups`; what an override leaves out keeps the document's value.
 * When several overrides match one host and set the same thing, the strictest value wins (see
 * the collector's `effective-policy.ts`), so their order never changes the outcome.
 */
export const PolicyOverride = z
  .strictObject({
    groups: z.array(GroupName).min(1, 'must list at least one group').max(LIMITS.groups),
    note: z.string().max(LIMITS.message).optional(),
    mode: PolicyMode.optional(),
    enabled: perRule(() => z.boolean().optional()).optional(),
    severities: perRule(() => Severity.optional()).optional(),
    // Not ScreenlockPolicy.partial(): that would keep its defaults and so override every field.
    screenlock: z
      .strictObject({ maxIdleSeconds: maxIdleSeconds.optional(), maxGraceSeconds: maxGraceSeconds.optional(), requirePassword: z.boolean().optional() })
      .optional(),
    unattended: z.strictObject({ thresholdSeconds: seconds().optional() }).optional(),
    silent: z.strictObject({ thresholdSeconds: seconds().optional() }).optional(),
  })
  .refine((o) => Object.keys(o).some((k) => k !== 'groups' && k !== 'note'), {
    message: 'sets nothing: give mode, enabled, severities, screenlock, unattended or silent',
  });
export type PolicyOverride = z.infer<typeof PolicyOverride>;

export const PolicyDocument = z.strictObject({
  version: z.literal(1, { error: 'must be 1 (the only policy document version there is)' }).default(1),
  mode: PolicyMode.default('enforce'),
  severities: perRule((id) => Severity.default(DEFAULT_SEVERITIES[id])).prefault({}),
  enabled: perRule(() => z.boolean().default(true)).prefault({}),
  usb: UsbPolicy.prefault({}),
  screenlock: ScreenlockPolicy.prefault({}),
  unattended: UnattendedPolicy.prefault({}),
  silent: SilentPolicy.prefault({}),
  software: SoftwareCatalogue,
  overrides: z.array(PolicyOverride).max(1_000).default([]),
});
/** A parsed, valid policy (every default filled in). */
export type Policy = z.infer<typeof PolicyDocument>;
/** What may be written in a policy document (everything optional). */
export type PolicyInput = z.input<typeof PolicyDocument>;

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
};

/** The policy `{}` parses to, frozen: what is in force before anyone writes one. */
export const DEFAULT_POLICY: Policy = deepFreeze(PolicyDocument.parse({}));
