import { VigilError, type SoftwareHosts, type SoftwareHostsQuery, type SoftwareItem, type SoftwareList, type SoftwareListQuery, type SoftwareTitleRow, type SoftwareTitleStatus } from '@vigil/shared';
import type { CatalogueTitle, Policy } from '@vigil/shared/policy';
import type { SoftwareRepository } from '../db/software-repository.js';
import { classifySoftware } from '../policy/software/classify.js';
import { softwareSubject } from '../policy/software/findings.js';

/** Inventories read at most per page of `hosts` (a title that few hosts have is found a slice at a time). */
export const HOSTS_SCAN_MAX = 2000;

interface Group {
  subject: string;
  status: string;
  installs: number;
  packages: number;
}

interface Classified {
  subject: string;
  status: string;
}

/**
 * The Software page's view of the fleet: each catalogue title (every item it matches) and each
 * package no title covers (`<source>:<name>`), with its installs, where it stands under the policy
 * in force and, for licensed titles, seats against the hosts holding one.
 *
 * Installs come from `software_installs` grouped by the classification stored with each
 * item. Items stored under an older policy version (the engine re-classifies them host by host
 * after a change) are classified here, each once per policy version, so the page is right at once.
 */
export class SoftwareTitles {
  /** Classifications of stale items under `version`, by item id. */
  private staleCache: { version: number; byId: Map<number, Classified> } = { version: -1, byId: new Map() };
  /** Installs by (subject, status) at one policy version and inventory generation. */
  private groupsCache: { version: number; generation: number; groups: Map<string, Group> } | undefined;

  constructor(
    private readonly repo: SoftwareRepository,
    private readonly policyInForce: () => { version: number; policy: Policy },
    /** Hosts waiting to be judged again (the engine's backlog). */
    private readonly judging: () => number = () => 0,
  ) {}

  list(q: SoftwareListQuery): SoftwareList {
    const { version, policy } = this.policyInForce();
    const rows = this.rows(version, policy);
    const needle = q.q?.toLowerCase();
    const hits = rows.filter((r) => (!q.status || r.status === q.status) && (!needle || r.name.toLowerCase().includes(needle)));
    const byName = (a: SoftwareTitleRow, b: SoftwareTitleRow) => {
      const x = a.name.toLowerCase();
      const y = b.name.toLowerCase();
      return x < y ? -1 : x > y ? 1 : a.status < b.status ? -1 : a.status > b.status ? 1 : 0;
    };
    hits.sort(q.sort === 'name' ? byName : (a, b) => b.installs - a.installs || byName(a, b));
    const offset = q.cursor === undefined ? 0 : Number(q.cursor);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new VigilError('VIGIL_ERR_VALIDATION', 'cursor is not valid');
    const items = hits.slice(offset, offset + q.limit);
    const next = offset + items.length;
    return { items, nextCursor: next < hits.length ? String(next) : null, total: hits.length, policyVersion: version, judging: this.judging() };
  }

  /** The hosts that have one row of the list, a page at a time (see `SoftwareHosts`). */
  hosts(q: SoftwareHostsQuery): SoftwareHosts {
    const { version, policy } = this.policyInForce();
    const after = q.cursor ?? '';
    const definition = policy.software.titles.find((t) => t.title === q.name);
    if (definition?.status === 'licensed' && q.status === 'licensed') {
      const items = this.repo.seatHolders(q.name, after, q.limit + 1);
      const more = items.length > q.limit;
      const page = more ? items.slice(0, q.limit) : items;
      return { items: page, nextCursor: more ? (page.at(-1)?.id ?? null) : null };
    }
    const stored = q.status === 'os-vendor' ? 'approved' : q.status;
    const ids = this.repo.idsOf(version, q.name, stored);
    for (const [id, c] of this.staleClassified(version, policy)) if (c.subject === q.name && c.status === stored) ids.push(id);
    if (ids.length === 0) return { items: [], nextCursor: null };
    const { hosts, last, scanned } = this.repo.hostsWithItems(ids, after, q.limit, HOSTS_SCAN_MAX);
    const more = hosts.length >= q.limit || scanned >= HOSTS_SCAN_MAX;
    return { items: hosts, nextCursor: more && last !== undefined ? last : null };
  }

  private rows(version: number, policy: Policy): SoftwareTitleRow[] {
    const titles = new Map<string, CatalogueTitle>(policy.software.titles.map((t) => [t.title, t]));
    // A copy: the cached groups stay as counted.
    const groups = new Map(this.installedGroups(version, policy));
    // Every catalogue title is listed, installed or not (a title just added shows at once).
    for (const t of titles.values()) {
      const key = `${t.title}\u0000${t.status}`;
      if (!groups.has(key)) groups.set(key, { subject: t.title, status: t.status, installs: 0, packages: 0 });
    }
    const seats = this.repo.seatCounts();
    const rows: SoftwareTitleRow[] = [];
    for (const g of groups.values()) {
      const definition = titles.get(g.subject);
      const isTitle = definition !== undefined && definition.status === g.status;
      const status: SoftwareTitleStatus = isTitle ? definition.status : g.status === 'approved' ? 'os-vendor' : (g.status as SoftwareTitleStatus);
      const licensed = isTitle && definition.status === 'licensed';
      const holders = licensed ? (seats.get(g.subject) ?? 0) : null;
      rows.push({
        name: g.subject,
        kind: isTitle ? 'title' : 'package',
        status,
        installs: g.installs,
        packages: g.packages,
        seats: licensed ? (definition.seats ?? 0) : null,
        licensedHosts: holders,
        overBy: licensed && holders !== null ? Math.max(0, holders - (definition.seats ?? 0)) : null,
        definition: isTitle ? definition : null,
      });
    }
    return rows;
  }

  /**
   * Installs by (subject, status) under `version`: one scan of `software_items`, kept until the
   * inventory's generation or the policy version changes (a page of a quiet fleet costs a sort).
   */
  private installedGroups(version: number, policy: Policy): Map<string, Group> {
    const generation = this.repo.generation();
    const cached = this.groupsCache;
    if (cached && cached.version === version && cached.generation === generation) return cached.groups;
    const groups = new Map<string, Group>();
    const add = (subject: string, status: string, installs: number, packages: number) => {
      const key = `${subject}\u0000${status}`;
      const g = groups.get(key);
      if (g) {
        g.installs += installs;
        g.packages += packages;
      } else groups.set(key, { subject, status, installs, packages });
    };
    for (const g of this.repo.groups(version)) add(g.subject, g.status, g.installs, g.packages);
    for (const c of this.staleClassified(version, policy).values()) add(c.subject, c.status, c.installs, 1);
    this.groupsCache = { version, generation, groups };
    return groups;
  }

  /** Installed items stored under another policy version, classified under `version` (each once). */
  private staleClassified(version: number, policy: Policy): Map<number, Classified & { installs: number }> {
    if (this.staleCache.version !== version) this.staleCache = { version, byId: new Map() };
    const { byId } = this.staleCache;
    const stale = this.repo.stale(version);
    const missing = stale.filter((s) => !byId.has(s.id)).map((s) => s.id);
    for (let i = 0; i < missing.length; i += 5000) {
      for (const { id, item } of this.repo.itemTexts(missing.slice(i, i + 5000))) {
        const parsed = JSON.parse(item) as SoftwareItem;
        const c = classifySoftware(parsed, policy.software);
        byId.set(id, { subject: softwareSubject(parsed, c.title), status: c.status });
      }
    }
    const out = new Map<number, Classified & { installs: number }>();
    for (const s of stale) {
      const c = byId.get(s.id);
      if (c) out.set(s.id, { ...c, installs: s.installs });
    }
    return out;
  }
}
