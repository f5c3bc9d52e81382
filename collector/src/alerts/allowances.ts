import type { UsbDevice } from '@vigil/shared';
import type { UsbPolicy } from '@vigil/shared/policy';
import type { ActiveException } from '../db/approvals-repository.js';
import type { Store } from '../db/store.js';
import type { Finding } from '../policy/finding.js';
import { approvalCoversHost, type UsbApproval } from '../policy/usb-approval.js';

type HostRef = { id: string; groups: readonly string[] };

/**
 * What people have allowed, held in memory for the engine: USB approvals indexed by device key
 * and by product, the exceptions in force, and the next instant one of them (or a policy allow
 * rule) expires, when everything must be judged again. Reloaded from the store after each change.
 */
export class Allowances {
  private byDevice = new Map<string, UsbApproval[]>();
  private byProduct = new Map<string, UsbApproval[]>();
  private exceptions: ActiveException[] = [];
  private approvalExpiry = Infinity;
  private exceptionExpiry = Infinity;

  constructor(private readonly store: Store) {}

  /** The next instant an approval, exception or allow rule expires. */
  get nextExpiry(): number {
    return Math.min(this.approvalExpiry, this.exceptionExpiry);
  }

  reloadApprovals(usb: UsbPolicy, now: number): void {
    this.byDevice.clear();
    this.byProduct.clear();
    let next = Infinity;
    for (const a of this.store.approvals.unrevoked()) {
      const [map, key] = 'deviceKey' in a ? [this.byDevice, a.deviceKey] : [this.byProduct, `${a.vendorId}:${a.productId}`];
      const list = map.get(key);
      if (list) list.push(a);
      else map.set(key, [a]);
      if (a.expiresAt != null && a.expiresAt > now) next = Math.min(next, a.expiresAt);
    }
    for (const rule of usb.allow) {
      const at = rule.expires === undefined ? NaN : Date.parse(rule.expires);
      if (at > now) next = Math.min(next, at);
    }
    this.approvalExpiry = next;
  }

  reloadExceptions(now: number): void {
    this.exceptions = this.store.exceptions.active(now);
    this.exceptionExpiry = this.exceptions.reduce((m, e) => Math.min(m, e.expiresAt), Infinity);
  }

  /** The approvals that could concern these devices (by device key or product). */
  approvalsFor(devices: readonly UsbDevice[]): UsbApproval[] {
    const out = new Set<UsbApproval>();
    for (const d of devices) {
      for (const a of this.byDevice.get(d.key) ?? []) out.add(a);
      for (const a of this.byProduct.get(`${d.vendorId}:${d.productId}`) ?? []) out.add(a);
    }
    return [...out];
  }

  /** Exceptions in force that cover a host. */
  exceptionsCovering(host: HostRef): ActiveException[] {
    return this.exceptions.filter((e) => approvalCoversHost(e.scope, host));
  }

  /** The exception in force that accepts this finding on this host (`null`: a fleet-wide finding), if any. */
  exceptionFor(host: HostRef | null, f: Finding): ActiveException | undefined {
    return this.exceptions.find(
      (e) => e.rule === f.rule && (e.subject === null || e.subject === f.subject) && (host === null ? 'all' in e.scope : approvalCoversHost(e.scope, host)),
    );
  }
}
