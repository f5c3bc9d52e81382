import type { SoftwareItem } from '@vigil/shared';
import type { Policy } from '@vigil/shared/policy';
import type { Store } from '../db/store.js';
import type { Finding } from '../policy/finding.js';
import { classifyList } from '../policy/software/classify.js';
import { licenceFindings } from '../policy/software/findings.js';
import type { AlertLifecycle } from './alert-lifecycle.js';

/** At most this many hosts named in a licence.over_deployed alert's details. */
const LICENCE_HOSTS_SHOWN = 1000;

export interface LicenceCounterDeps {
  store: Store;
  lifecycle: AlertLifecycle;
  policy(): Policy;
  hostname(hostId: string): string | null;
  /** Whether an exception in force accepts this fleet-wide finding. */
  excepted(f: Finding): boolean;
}

/**
 * `licence.over_deployed`: keeps each host's seats (`host_licensed_titles`) in step with its
 * software, remembers which titles' counts changed, and recounts those titles fleet-wide into one
 * alert per title over its seats. Runs inside the caller's transaction.
 */
export class LicenceCounter {
  private dirty = new Set<string>();
  private all = false;

  constructor(private readonly deps: LicenceCounterDeps) {}

  /** Sets a host's licensed titles from its whole inventory. */
  setFromItems(hostId: string, items: readonly SoftwareItem[]): void {
    const titles = new Set<string>();
    for (const c of classifyList(items, this.deps.policy().software)) {
      if (c.status === 'licensed' && c.title !== undefined) titles.add(c.title);
    }
    this.setTitles(hostId, titles);
  }

  /** Sets a host's licensed titles; the titles that changed are recounted at the next `recountDirty`. */
  setTitles(hostId: string, titles: ReadonlySet<string>): void {
    for (const t of this.deps.store.licences.setHostTitles(hostId, titles)) this.dirty.add(t);
  }

  /** A retired host gives its seats back. */
  removeHost(hostId: string): void {
    for (const t of this.deps.store.licences.removeHost(hostId)) this.dirty.add(t);
  }

  /** Every title is recounted next time (the catalogue changed). */
  markAll(): void {
    this.all = true;
  }

  get pending(): boolean {
    return this.all || this.dirty.size > 0;
  }

  /** Forget what a rolled-back transaction marked. */
  discard(): void {
    this.dirty.clear();
  }

  /** Recounts the titles whose installs changed (or every title after `markAll`). */
  recountDirty(now: number): void {
    if (!this.pending) return;
    const titles = new Set(this.dirty);
    if (this.all) {
      for (const t of this.deps.policy().software.titles) if (t.status === 'licensed') titles.add(t.title);
      for (const t of this.deps.store.licences.titles()) titles.add(t);
      // Titles with an open alert but no longer licensed (or renamed) must be able to clear too.
      for (const a of this.deps.store.alerts.openFor(null, 'licence.over_deployed')) titles.add(a.subject);
    }
    this.dirty.clear();
    this.all = false;
    this.recount(titles, now);
  }

  /** Counts `titles` across the fleet and reconciles their alerts (other titles' alerts stay). */
  recount(titles: ReadonlySet<string>, now: number): void {
    const policy = this.deps.policy();
    const seatsOf = new Map<string, number>();
    for (const t of policy.software.titles) if (t.status === 'licensed') seatsOf.set(t.title, t.seats ?? 0);
    const usage = [...titles]
      .filter((t) => seatsOf.has(t))
      .map((title) => {
        const hosts = this.deps.store.licences.hosts(title);
        const seats = seatsOf.get(title) ?? 0;
        return { title, seats, installs: hosts.length, hosts, overBy: Math.max(0, hosts.length - seats) };
      });
    const findings: Finding[] = [];
    if (policy.enabled['licence.over_deployed']) {
      for (const f of licenceFindings(usage)) {
        const shown = f.details.hosts.slice(0, LICENCE_HOSTS_SHOWN).map((id) => ({ id, hostname: this.deps.hostname(id) }));
        const finding: Finding = {
          rule: 'licence.over_deployed',
          subject: f.subject,
          severity: policy.severities['licence.over_deployed'],
          details: {
            seats: f.details.seats,
            installs: f.details.installs,
            overBy: f.details.overBy,
            hosts: shown,
            hostsNotShown: f.details.hosts.length - shown.length,
            message: `${f.details.installs} installs of "${f.subject}" for ${f.details.seats} seats: over by ${f.details.overBy}`,
          },
        };
        if (!this.deps.excepted(finding)) findings.push(finding);
      }
    }
    this.deps.lifecycle.reconcile({ hostId: null, hostname: null, groups: [], rules: ['licence.over_deployed'], subjects: { 'licence.over_deployed': titles } }, findings, {
      now,
      monitorOnly: policy.mode === 'monitor-only',
    });
  }
}
