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
 * How often at most a title is recounted while its installs keep changing. A recount reads every
 * host holding a seat and rewrites the title's alert, whose details name up to 1,000 hosts (and
 * whose history keeps each version): recounted at every change, a fleet of 10,000 enrolling
 * wrote ~2,000 versions of a ~70 KB alert. The first change after a quiet second is counted at once.
 */
export const LICENCE_RECOUNT_INTERVAL_MS = 1_000;

/**
 * `licence.over_deployed`: keeps each host's seats (`host_licensed_titles`) in step with its
 * software, remembers which titles' counts changed, and recounts those titles fleet-wide into one
 * alert per title over its seats, each title at most once per `intervalMs` (a title not yet due
 * stays marked; `recountDirty` says when it is). Runs inside the caller's transaction; the caller
 * says whether that transaction committed (`commit`) or rolled back (`discard`), so a rollback
 * loses neither a mark nor a recount.
 */
export class LicenceCounter {
  /** Titles whose counts changed in committed transactions and are not recounted yet. */
  private dirty = new Set<string>();
  /** Titles marked by the transaction in progress. */
  private marked = new Set<string>();
  private all = false;
  /** When each title was last recounted (committed recounts). */
  private readonly recountedAt = new Map<string, number>();
  /** What the transaction in progress took off the marks by recounting, to put back on rollback. */
  private undo: { titles: Map<string, number | undefined>; all: boolean } = { titles: new Map(), all: false };

  constructor(
    private readonly deps: LicenceCounterDeps,
    private readonly intervalMs = LICENCE_RECOUNT_INTERVAL_MS,
  ) {}

  /** Sets a host's licensed titles from its whole inventory. */
  setFromItems(hostId: string, items: readonly SoftwareItem[]): void {
    const titles = new Set<string>();
    for (const c of classifyList(items, this.deps.policy().software)) {
      if (c.status === 'licensed' && c.title !== undefined) titles.add(c.title);
    }
    this.setTitles(hostId, titles);
  }

  /** Sets a host's licensed titles; the titles that changed are recounted by a later `recountDirty`. */
  setTitles(hostId: string, titles: ReadonlySet<string>): void {
    for (const t of this.deps.store.licences.setHostTitles(hostId, titles)) this.marked.add(t);
  }

  /** A retired host gives its seats back. */
  removeHost(hostId: string): void {
    for (const t of this.deps.store.licences.removeHost(hostId)) this.marked.add(t);
  }

  /** Every title is recounted next time, whenever it was last (the catalogue changed). */
  markAll(): void {
    this.all = true;
  }

  get pending(): boolean {
    return this.all || this.dirty.size > 0 || this.marked.size > 0;
  }

  /** The caller's transaction committed: its marks and recounts stand. */
  commit(): void {
    for (const t of this.marked) this.dirty.add(t);
    this.marked.clear();
    this.undo = { titles: new Map(), all: false };
  }

  /** The caller's transaction rolled back: forget its marks, and what it recounted is due again. */
  discard(): void {
    this.marked.clear();
    for (const [t, at] of this.undo.titles) {
      this.dirty.add(t);
      if (at === undefined) this.recountedAt.delete(t);
      else this.recountedAt.set(t, at);
    }
    if (this.undo.all) this.all = true;
    this.undo = { titles: new Map(), all: false };
  }

  /**
   * Recounts the marked titles that are due (every one after `markAll`, or with `force`); returns
   * when the next of those left marked is due, if any.
   */
  recountDirty(now: number, { force = false }: { force?: boolean } = {}): number | undefined {
    if (!this.pending) return undefined;
    const titles = new Set<string>();
    let next: number | undefined;
    const all = this.all || force;
    for (const t of [...this.dirty, ...this.marked]) {
      const last = this.recountedAt.get(t);
      if (all || last === undefined || now - last >= this.intervalMs || now < last) titles.add(t);
      else next = Math.min(next ?? Infinity, last + this.intervalMs);
    }
    if (this.all) {
      for (const t of this.deps.policy().software.titles) if (t.status === 'licensed') titles.add(t.title);
      for (const t of this.deps.store.licences.titles()) titles.add(t);
      // Titles with an open alert but no longer licensed (or renamed) must be able to clear too.
      for (const a of this.deps.store.alerts.openFor(null, 'licence.over_deployed')) titles.add(a.subject);
      this.undo.all = true;
      this.all = false;
    }
    if (titles.size === 0) return next;
    for (const t of titles) {
      if (!this.undo.titles.has(t)) this.undo.titles.set(t, this.recountedAt.get(t));
      this.recountedAt.set(t, now);
      this.dirty.delete(t);
      this.marked.delete(t);
    }
    this.recount(titles, now);
    return next;
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
