import { createHmac } from 'node:crypto';
import type { EvidenceAlert, EvidenceFinding, Host, HostEvidence, UsbDevice } from '@vigil/shared';
import type { PolicyEngine } from '../alerts/policy-engine.js';
import type { AlertRow } from '../db/alerts-repository.js';
import type { AuditHostRow, AuditRow } from '../db/audits-repository.js';
import type { Reported } from '../db/host-state-repository.js';
import { parseJsonColumn } from '../db/json-column.js';
import type { Store } from '../db/store.js';
import { evaluateScreenlock, screenlockSubject } from '../policy/screenlock-noncompliant.js';
import { classifySoftware } from '../policy/software/classify.js';
import { judgeUsbDevice } from '../policy/usb-unauthorised.js';

/**
 * The evidence pack of one sampled host: only what the policy needs (DESIGN.md, "Security and
 * privacy defaults") — software with catalogue status and seat use, USB devices seen in the
 * period, screen-lock compliance, the alerts of the period with their resolution, and agent
 * coverage. No logged-in users list, no session timeline, no content. Usernames (screen-lock
 * settings, unattended-terminal alerts) are replaced by a per-audit pseudonym when the audit
 * asks for it.
 */

/** Snapshots read per host for the USB devices they listed (newest first). */
const SNAPSHOTS_READ = 200;
/** USB attach events read per host. */
const USB_EVENTS_READ = 2000;

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null | undefined) => (ms == null ? null : iso(ms));

/** `pseudonym(user)`: HMAC-SHA256 of the name with the audit's key, stable within the audit. */
export function pseudonymiser(key: string | null): (user: string) => string {
  if (!key) return (u) => u;
  const k = Buffer.from(key, 'hex');
  const seen = new Map<string, string>();
  return (u) => {
    let p = seen.get(u);
    if (p === undefined) {
      p = `user-${createHmac('sha256', k).update(u, 'utf8').digest('hex').slice(0, 16)}`;
      seen.set(u, p);
    }
    return p;
  };
}

/** Subjects that name a user (`screenlock:<user>[@desktop]`, `session:<user>@<seat>`) with the user replaced. */
function subjectWith(subject: string, pseud: (u: string) => string): string {
  const m = /^(screenlock|session):([^@]*)(@.*)?$/s.exec(subject);
  return m ? `${m[1]}:${pseud(m[2] ?? '')}${m[3] ?? ''}` : subject;
}

function factStatus<T>(r: Reported<T>, now: number) {
  if (r === null) return { status: 'never' as const, reportedAt: null, ageSeconds: null, reason: null };
  return { status: r.known ? ('known' as const) : ('unknown' as const), reportedAt: iso(r.at), ageSeconds: Math.max(0, Math.floor((now - r.at) / 1000)), reason: r.known ? null : r.reason };
}

interface MessageRow {
  id: string;
  type: string;
  received_at: number;
  body: string;
}

export interface EvidenceContext {
  store: Store;
  engine: PolicyEngine;
  audit: AuditRow;
  now: number;
}

export function hostEvidence(ctx: EvidenceContext, row: AuditHostRow): HostEvidence {
  const { store, engine, audit, now } = ctx;
  const pseud = pseudonymiser(audit.pseudonym_key);
  const from = audit.period_from;
  const to = audit.period_to;
  const host: Host | undefined = store.hosts.get(row.host_id, now);
  const state = store.hostState.get(row.host_id);
  const { policy } = engine.policyInForce;
  const eff = engine.effectiveFor(host?.groups ?? []);
  const findings: EvidenceFinding[] = [];

  // --- fresh evidence
  const freshAt = store.audits.firstSnapshotSince(row.host_id, audit.created_at);
  const facts = { software: factStatus(state.software, now), usb: factStatus(state.usb, now), screenlock: factStatus(state.screenlock, now) };
  const freshness = { requestedAt: isoOrNull(row.commanded_at), commandId: row.command_id, freshEvidenceAt: isoOrNull(freshAt), facts };
  if (freshAt !== null) {
    findings.push({ kind: 'freshness', subject: 'evidence', status: 'fresh', detail: `a full snapshot arrived after the draw`, at: iso(freshAt) });
  } else {
    const ages = Object.entries(facts).map(([k, f]) => `${k}: ${f.reportedAt === null ? 'never reported' : `${f.ageSeconds} s old`}`);
    findings.push({
      kind: 'freshness',
      subject: 'evidence',
      status: row.command_id ? 'requested, not yet received' : 'agent not connected at draw',
      detail: `last known facts — ${ages.join('; ')}`,
      at: null,
    });
  }

  // --- software, with catalogue status and seat use
  const counts: Record<string, number> = { approved: 0, licensed: 0, unapproved: 0, prohibited: 0 };
  const titles = new Set<string>();
  const items = (state.software?.known ? state.software.items : []).map((item) => {
    const c = classifySoftware(item, policy.software);
    counts[c.status] = (counts[c.status] ?? 0) + 1;
    if (c.status === 'licensed' && c.title !== undefined) titles.add(c.title);
    if (c.status !== 'approved') {
      findings.push({
        kind: 'software',
        subject: item.name,
        status: c.status,
        detail: `${item.source} ${item.version}${c.title ? `; title ${c.title}` : ''}; ${c.reason}`,
        at: isoOrNull(state.software?.at),
      });
    }
    return { name: item.name, version: item.version, source: item.source, publisher: item.publisher ?? null, arch: item.arch ?? null, status: c.status, title: c.title ?? null, reason: c.reason };
  });
  const licences = [...titles].sort().map((title) => {
    const seats = policy.software.titles.find((t) => t.title === title)?.seats ?? 0;
    const installsFleetWide = store.licences.hosts(title).length;
    const overBy = Math.max(0, installsFleetWide - seats);
    findings.push({ kind: 'licence', subject: title, status: overBy > 0 ? 'over-deployed' : 'within seats', detail: `${installsFleetWide} installs of ${seats} seats fleet-wide`, at: null });
    return { title, seats, installsFleetWide, overBy };
  });

  // --- USB devices attached in the period, listed by snapshots in the period, or present now
  const seen = new Map<string, { device: UsbDevice; first: number; last: number; presentNow: boolean }>();
  const see = (d: UsbDevice, at: number, presentNow = false) => {
    const s = seen.get(d.key);
    if (!s) seen.set(d.key, { device: d, first: at, last: at, presentNow });
    else {
      s.first = Math.min(s.first, at);
      s.last = Math.max(s.last, at);
      s.presentNow ||= presentNow;
    }
  };
  const attached = store.db
    .prepare<[string, number, number], MessageRow>(
      `SELECT id, type, received_at, body FROM messages WHERE host_id = ? AND type = 'usb.attached' AND received_at BETWEEN ? AND ? ORDER BY received_at DESC LIMIT ${USB_EVENTS_READ}`,
    )
    .all(row.host_id, from, to);
  for (const m of attached) {
    const b = parseJsonColumn<{ device?: UsbDevice }>(m.body, {});
    if (b.device?.key) see(b.device, m.received_at);
  }
  const snapshots = store.db
    .prepare<[string, number, number], MessageRow>(`SELECT id, type, received_at, body FROM messages WHERE host_id = ? AND type = 'snapshot' AND received_at BETWEEN ? AND ? ORDER BY received_at DESC LIMIT ${SNAPSHOTS_READ}`)
    .all(row.host_id, from, to);
  for (const m of snapshots) {
    const b = parseJsonColumn<{ usb?: unknown }>(m.body, {});
    if (Array.isArray(b.usb)) for (const d of b.usb as UsbDevice[]) if (d?.key) see(d, m.received_at);
  }
  // Present now (the fresh evidence asked for at the draw arrives after the period ends).
  if (state.usb?.known) for (const d of state.usb.items) see(d, state.usb.at, true);
  const usbDevices = [...seen.values()].map((s) => s.device);
  const approvals = engine.approvalsForDevices(usbDevices);
  const devices = [...seen.values()]
    .sort((a, b) => a.first - b.first || (a.device.key < b.device.key ? -1 : 1))
    .map(({ device: d, first, last, presentNow }) => {
      const v = judgeUsbDevice(d, { id: row.host_id, groups: host?.groups ?? [] }, policy.usb, approvals, now);
      findings.push({
        kind: 'usb',
        subject: d.key,
        status: v.allowed ? 'approved' : 'unapproved',
        detail: `${d.manufacturer} ${d.product} (${d.vendorId}:${d.productId})${v.allowed ? '' : `; ${v.reasons.join('; ')}`}`,
        at: iso(last),
      });
      return {
        key: d.key,
        vendorId: d.vendorId,
        productId: d.productId,
        manufacturer: d.manufacturer,
        product: d.product,
        serial: d.serial,
        firstSeenAt: iso(first),
        lastSeenAt: iso(last),
        presentNow,
        approved: v.allowed,
        allowedBy: v.allowed ? v.allowedBy : null,
        reasons: v.allowed ? [] : v.reasons,
      };
    });

  // --- alerts of the period (open at some time within it), with their resolution
  const alertRows = store.db
    .prepare<[string, number, number], AlertRow>(
      `SELECT * FROM alerts WHERE host_id = ? AND first_seen_at <= ? AND (status IN ('open', 'acknowledged') OR coalesce(resolved_at, last_seen_at) >= ?) ORDER BY first_seen_at, id`,
    )
    .all(row.host_id, to, from);
  const toEvidenceAlert = (a: AlertRow): EvidenceAlert => {
    const details = parseJsonColumn<Record<string, unknown>>(a.details, {});
    const message = typeof details.message === 'string' ? details.message : null;
    return {
      id: a.id,
      rule: a.rule,
      subject: subjectWith(a.subject, pseud),
      severity: a.severity,
      status: a.status,
      firstSeenAt: iso(a.first_seen_at),
      lastSeenAt: iso(a.last_seen_at),
      count: a.count,
      resolution: a.resolution,
      resolvedBy: a.resolved_by,
      resolvedAt: isoOrNull(a.resolved_at),
      note: a.note,
      message: message && typeof details.user === 'string' && details.user ? message.split(details.user).join(pseud(details.user)) : message,
    };
  };
  const alerts = alertRows.map(toEvidenceAlert);
  for (const a of alerts) {
    findings.push({ kind: 'alert', subject: `${a.rule} ${a.subject}`, status: a.resolution ? `${a.status} (${a.resolution})` : a.status, detail: `${a.severity}; ${a.count}×; ${a.message ?? ''}`.trim(), at: a.firstSeenAt });
  }

  // --- screen lock
  const settings = state.screenlock?.known ? state.screenlock.items : [];
  const judged = evaluateScreenlock(settings, { screenlock: eff.screenlock, severity: eff.severities['screenlock.noncompliant'] });
  const breachesBySubject = new Map(judged.findings.map((f) => [f.subject, (f.details as { breaches?: { message: string }[] }).breaches ?? []]));
  const screenSettings = settings.map((s) => {
    const subject = screenlockSubject(s);
    const breaches = (breachesBySubject.get(subject) ?? []).map((b) => b.message);
    const unknown = judged.unknowns.some((u) => u.subject === subject);
    findings.push({
      kind: 'screenlock',
      subject: subjectWith(subject, pseud),
      status: breaches.length ? 'noncompliant' : unknown ? 'unknown' : 'compliant',
      detail: breaches.length ? breaches.join('; ') : unknown ? 'some settings could not be read' : 'meets the policy',
      at: isoOrNull(state.screenlock?.at),
    });
    return {
      user: pseud(s.user),
      desktop: s.desktop ?? null,
      subject: subjectWith(subject, pseud),
      enabled: s.enabled,
      idleTimeoutSeconds: s.idleTimeoutSeconds,
      graceSeconds: s.graceSeconds,
      passwordRequired: s.passwordRequired,
      breaches,
    };
  });
  const compliant = state.screenlock?.known ? judged.findings.length === 0 : null;

  // --- coverage: when the agent was silent within the period
  const gaps: { from: string; to: string | null; reason: string }[] = [];
  if (host && Date.parse(host.firstSeenAt) > from) gaps.push({ from: iso(from), to: host.firstSeenAt, reason: 'not yet enrolled' });
  for (const a of alertRows.filter((x) => x.rule === 'agent.silent')) {
    const d = parseJsonColumn<{ lastSeenAt?: string }>(a.details, {});
    gaps.push({ from: d.lastSeenAt ?? iso(a.first_seen_at), to: isoOrNull(a.resolved_at), reason: 'agent silent (no frame and no goodbye)' });
  }
  for (const g of gaps) findings.push({ kind: 'coverage', subject: 'agent', status: 'gap', detail: `${g.reason}: ${g.from} – ${g.to ?? 'now'}`, at: g.from });

  return {
    host: {
      id: row.host_id,
      hostname: host?.hostname ?? null,
      platform: host?.os.platform ?? null,
      distro: host?.os.distro ?? null,
      release: host?.os.release ?? null,
      groups: host?.groups ?? [],
      status: host?.status ?? 'unknown',
      agentVersion: host?.agentVersion ?? null,
      firstSeenAt: host?.firstSeenAt ?? null,
      lastSeenAt: host?.lastSeenAt ?? null,
    },
    stratum: row.stratum,
    rank: row.rank,
    hmac: row.hmac,
    decision: { decision: row.decision, comment: row.comment, decidedBy: row.decided_by, decidedAt: isoOrNull(row.decided_at) },
    freshness,
    software: { counts, items, licences },
    usb: { devices },
    screenlock: {
      compliant,
      settings: screenSettings,
      noncompliantAlerts: alerts.filter((a) => a.rule === 'screenlock.noncompliant'),
      unattendedAlerts: alerts.filter((a) => a.rule === 'terminal.unattended'),
    },
    alerts,
    coverage: {
      messagesStored: host?.agent.messagesStored ?? null,
      messagesRejected: host?.agent.messagesRejected ?? null,
      counters: host?.agent.counters ?? null,
      gaps,
    },
    findings,
  };
}
