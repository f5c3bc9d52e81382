import type { UsbDevice } from '@vigil/shared';
import type { Severity, UsbAllowRule, UsbPolicy } from '@vigil/shared/policy';
import type { Finding } from './finding.js';
import { approvalCoversHost, approvalMatchesDevice, describeApproval, type UsbApproval } from './usb-approval.js';

/**
 * `usb.unauthorised`: default deny. A device present on a host is allowed by, in this order:
 * being a hub (`usb.allowHubs`), being fixed/internal (`usb.allowInternal`), the first policy
 * allow rule that matches it, or an approval. Anything else is a finding whose details say why
 * nothing allowed it, naming the near misses (a rule or approval that names the device but has
 * expired or is scoped elsewhere, or whose interface classes the device exceeds).
 */

export interface UsbHost {
  id: string;
  groups: readonly string[];
}

/** What the evaluator needs from the host's effective policy. */
export interface UsbRuleSettings {
  usb: UsbPolicy;
  severity: Severity;
}

/** Why a device is allowed. `rule` is the index into `usb.allow`. */
export type UsbAllowance =
  | { kind: 'hub' }
  | { kind: 'internal' }
  | { kind: 'rule'; rule: number; note: string | null }
  | { kind: 'approval'; approvalId: string; by: string; reason: string };

export type UsbVerdict = { allowed: true; allowedBy: UsbAllowance } | { allowed: false; reasons: string[] };

/** Hub class: a device only counts as a hub if every interface it has is a hub interface. */
const HUB_CLASS = '09';

const ruleName = (rule: UsbAllowRule, index: number): string =>
  rule.note ? `usb.allow[${index}] ("${rule.note}")` : `usb.allow[${index}]`;

/** Whether the host is in a policy rule's scope (no scope: every host). */
function ruleCoversHost(rule: UsbAllowRule, host: UsbHost): boolean {
  if (rule.scope === undefined) return true;
  return (rule.scope.hostIds?.includes(host.id) ?? false) || (rule.scope.groups?.some((g) => host.groups.includes(g)) ?? false);
}

/**
 * Checks one allow rule: `true` if it allows the device, otherwise why not as a sentence when the
 * rule is a near miss, or `null` when the rule is about other devices altogether.
 */
function checkRule(rule: UsbAllowRule, index: number, device: UsbDevice, host: UsbHost, now: number): true | string | null {
  const name = ruleName(rule, index);
  if (rule.vendorId !== undefined && rule.vendorId !== device.vendorId) return null;
  if (rule.productId !== undefined && rule.productId !== device.productId) return null;
  if (rule.serial !== undefined && rule.serial !== device.serial) return null;
  if (rule.interfaceClasses !== undefined) {
    const allowed = new Set(rule.interfaceClasses);
    const extra = [...new Set(device.interfaceClasses.filter((c) => !allowed.has(c)))];
    const overlaps = device.interfaceClasses.some((c) => allowed.has(c));
    if (device.interfaceClasses.length === 0) {
      return rule.vendorId === undefined ? null : `${name} requires interface classes [${rule.interfaceClasses.join(', ')}], and the device reports none`;
    }
    if (extra.length > 0) {
      if (!overlaps && rule.vendorId === undefined) return null;
      return `${name} allows only interface classes [${rule.interfaceClasses.join(', ')}]; the device also has [${extra.join(', ')}]`;
    }
  }
  if (!ruleCoversHost(rule, host)) return `${name} matches the device but does not apply to this host`;
  if (rule.expires !== undefined && now >= Date.parse(rule.expires)) return `${name} matches the device but expired at ${rule.expires}`;
  return true;
}

/** Decides one device on one host. Pure: `now` is epoch milliseconds. */
export function judgeUsbDevice(device: UsbDevice, host: UsbHost, usb: UsbPolicy, approvals: readonly UsbApproval[], now: number): UsbVerdict {
  const reasons: string[] = [];
  const hubOnly = device.interfaceClasses.every((c) => c === HUB_CLASS);
  if (device.isHub || device.isRootHub) {
    if (!usb.allowHubs) reasons.push('hubs are not allowed by default (usb.allowHubs is false)');
    else if (!hubOnly) reasons.push(`reports itself as a hub but also has interface classes [${device.interfaceClasses.filter((c) => c !== HUB_CLASS).join(', ')}]`);
    else return { allowed: true, allowedBy: { kind: 'hub' } };
  }
  if (device.removable === 'fixed') {
    if (usb.allowInternal) return { allowed: true, allowedBy: { kind: 'internal' } };
    reasons.push('internal devices are not allowed by default (usb.allowInternal is false)');
  }
  for (const [index, rule] of usb.allow.entries()) {
    const result = checkRule(rule, index, device, host, now);
    if (result === true) return { allowed: true, allowedBy: { kind: 'rule', rule: index, note: rule.note ?? null } };
    if (result !== null) reasons.push(result);
  }
  for (const approval of approvals) {
    if (!approvalMatchesDevice(approval, device)) continue;
    const name = `approval ${approval.id} (${describeApproval(approval)})`;
    if (!approvalCoversHost(approval.scope, host)) reasons.push(`${name} does not cover this host`);
    else if (approval.expiresAt != null && now >= approval.expiresAt) reasons.push(`${name} expired at ${new Date(approval.expiresAt).toISOString()}`);
    else return { allowed: true, allowedBy: { kind: 'approval', approvalId: approval.id, by: approval.by, reason: approval.reason } };
  }
  reasons.push(`no allow rule or approval in force allows ${device.vendorId}:${device.productId}${device.serial ? ` serial ${device.serial}` : ''} (USB is default deny)`);
  return { allowed: false, reasons };
}

/**
 * The `usb.unauthorised` findings for the devices present on one host: one per device key (two
 * identical sticks without a serial share a key, so they are one finding listing both bus paths).
 */
export function evaluateUsb(devices: readonly UsbDevice[], host: UsbHost, settings: UsbRuleSettings, approvals: readonly UsbApproval[], now: number): Finding[] {
  const byKey = new Map<string, { device: UsbDevice; busPaths: string[]; reasons: string[] }>();
  for (const device of devices) {
    const verdict = judgeUsbDevice(device, host, settings.usb, approvals, now);
    if (verdict.allowed) continue;
    const seen = byKey.get(device.key);
    if (seen) seen.busPaths.push(device.busPath);
    else byKey.set(device.key, { device, busPaths: [device.busPath], reasons: verdict.reasons });
  }
  return [...byKey.values()].map(({ device: d, busPaths, reasons }) => ({
    rule: 'usb.unauthorised',
    subject: d.key,
    severity: settings.severity,
    details: {
      vendorId: d.vendorId,
      productId: d.productId,
      serial: d.serial,
      manufacturer: d.manufacturer,
      product: d.product,
      deviceClass: d.deviceClass,
      interfaceClasses: d.interfaceClasses,
      removable: d.removable,
      isHub: d.isHub,
      isRootHub: d.isRootHub,
      busPaths,
      reasons,
    },
  }));
}
