import type { Host, HostDetail } from '@vigil/shared';
import type { Reported } from '../db/host-state-repository.js';
import type { Store } from '../db/store.js';
import { evaluateScreenlock, screenlockSubject } from '../policy/screenlock-noncompliant.js';
import { classifySoftware } from '../policy/software/classify.js';
import { judgeUsbDevice } from '../policy/usb-unauthorised.js';
import type { PolicyEngine } from './policy-engine.js';

/** Attach/detach events shown on a host page. */
const USB_HISTORY = 100;

function status<T>(r: Reported<T>) {
  if (r === null) return { status: 'never' as const, reason: null, reportedAt: null };
  const reportedAt = new Date(r.at).toISOString();
  return r.known ? { status: 'known' as const, reason: null, reportedAt } : { status: 'unknown' as const, reason: r.reason, reportedAt };
}

interface UsbEventRow {
  type: 'usb.attached' | 'usb.detached';
  received_at: number;
  body: string;
}

/** A host with its current facts judged against the policy in force (for the host page). */
export function hostDetail(store: Store, engine: PolicyEngine, host: Host, now = Date.now()): HostDetail {
  const state = store.hostState.get(host.id);
  const { policy, version } = engine.policyInForce;
  const eff = engine.effectiveFor(host.groups);

  const usbItems = state.usb?.known ? state.usb.items : [];
  const approvals = engine.approvalsForDevices(usbItems);
  const present = usbItems.map((d) => {
    const v = judgeUsbDevice(d, host, policy.usb, approvals, now);
    return { ...d, allowed: v.allowed, ...(v.allowed ? { allowedBy: v.allowedBy } : { reasons: v.reasons }) };
  });
  const history = store.db
    .prepare<[string, number], UsbEventRow>(
      `SELECT type, received_at, body FROM messages WHERE host_id = ? AND type IN ('usb.attached', 'usb.detached') ORDER BY received_at DESC, seq DESC LIMIT ?`,
    )
    .all(host.id, USB_HISTORY)
    .map((r) => {
      const b = JSON.parse(r.body) as { device?: { key: string; busPath: string; vendorId: string; productId: string; product: string }; key?: string; busPath?: string };
      const d = b.device;
      return {
        at: new Date(r.received_at).toISOString(),
        event: r.type === 'usb.attached' ? ('attached' as const) : ('detached' as const),
        key: d?.key ?? b.key ?? '',
        busPath: d?.busPath ?? b.busPath ?? '',
        vendorId: d?.vendorId ?? null,
        productId: d?.productId ?? null,
        product: d?.product ?? null,
      };
    });

  const counts: Record<string, number> = { approved: 0, licensed: 0, unapproved: 0, prohibited: 0 };
  const software = (state.software?.known ? state.software.items : []).map((item) => {
    const c = classifySoftware(item, policy.software);
    counts[c.status] = (counts[c.status] ?? 0) + 1;
    return { ...item, status: c.status, title: c.title ?? null, reason: c.reason };
  });

  const settings = state.screenlock?.known ? state.screenlock.items : [];
  const judged = evaluateScreenlock(settings, { screenlock: eff.screenlock, severity: eff.severities['screenlock.noncompliant'] });
  const breachesBySubject = new Map(judged.findings.map((f) => [f.subject, f.details]));

  return {
    ...host,
    policyVersion: version,
    openAlerts: store.alerts.openOnHost(host.id).length,
    exceptions: engine
      .exceptionsCovering(host)
      .filter((e) => e.expiresAt > now)
      .map((e) => ({ id: e.id, rule: e.rule, subject: e.subject, expiresAt: new Date(e.expiresAt).toISOString(), reason: e.reason, createdBy: e.createdBy })),
    usb: { ...status(state.usb), present, history },
    software: { ...status(state.software), counts, items: software },
    screenlock: {
      ...status(state.screenlock),
      settings: settings.map((s) => ({ ...s, breaches: breachesBySubject.get(screenlockSubject(s))?.breaches ?? [] })),
      unknown: judged.unknowns.map((u) => ({ ...u })),
    },
    sessions: { ...status(state.sessions), sessions: state.sessions?.known ? state.sessions.items.map((x) => ({ ...x })) : [] },
  };
}
