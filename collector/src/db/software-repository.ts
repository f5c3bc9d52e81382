import type { Db } from './database.js';

/** Installs of one (subject, status) as stored under one policy version. */
export interface StoredSoftwareGroup {
  subject: string;
  status: string;
  installs: number;
  packages: number;
}

/**
 * The fleet's software, read from `software_items` and `software_installs`: each distinct item's installs are kept
 * by the ingest path (`SoftwareInventory`), so counting titles never reads a host's inventory.
 * Which hosts have some items is the one question that needs the inventories; it is answered a
 * bounded slice at a time (`hostsWithItems`).
 */
export class SoftwareRepository {
  private readonly s;

  constructor(
    db: Db,
    /** The inventory's generation (`SoftwareInventory.generation`): installs and classifications are unchanged while it is. */
    readonly generation: () => number = () => 0,
  ) {
    this.s = {
      groups: db.prepare<[number], StoredSoftwareGroup>(
        `SELECT i.subject, i.status, sum(n.installs) AS installs, count(*) AS packages FROM software_installs n JOIN software_items i ON i.id = n.item_id
         WHERE n.installs > 0 AND i.policy_version = ? AND i.subject IS NOT NULL AND i.status IS NOT NULL GROUP BY i.subject, i.status`,
      ),
      stale: db.prepare<[number], { id: number; installs: number }>(
        'SELECT i.id, n.installs FROM software_installs n JOIN software_items i ON i.id = n.item_id WHERE n.installs > 0 AND (i.policy_version IS NOT ? OR i.subject IS NULL OR i.status IS NULL)',
      ),
      items: db.prepare<[string], { id: number; item: string }>('SELECT id, item FROM software_items WHERE id IN (SELECT value FROM json_each(?))'),
      idsOf: db.prepare<[number, string, string], { id: number }>(
        'SELECT i.id FROM software_installs n JOIN software_items i ON i.id = n.item_id WHERE n.installs > 0 AND i.policy_version = ? AND i.subject = ? AND i.status = ?',
      ),
      seats: db.prepare<[], { title: string; n: number }>('SELECT title, count(*) AS n FROM host_licensed_titles GROUP BY title'),
      seatHolders: db.prepare<[string, string, number], { id: string; hostname: string }>(
        'SELECT l.host_id AS id, h.hostname FROM host_licensed_titles l JOIN hosts h ON h.id = l.host_id WHERE l.title = ? AND l.host_id > ? ORDER BY l.host_id LIMIT ?',
      ),
      scan: db.prepare<[string, number], { id: string; hostname: string; item_ids: string }>(
        'SELECT v.host_id AS id, h.hostname, v.item_ids FROM host_inventories v JOIN hosts h ON h.id = v.host_id WHERE v.counted = 1 AND v.host_id > ? ORDER BY v.host_id LIMIT ?',
      ),
    };
  }

  /** Installs by (subject, status) of the items classified under `policyVersion`. */
  groups(policyVersion: number): StoredSoftwareGroup[] {
    return this.s.groups.all(policyVersion);
  }

  /** Installed items not (yet) classified under `policyVersion`: the engine re-judges them lazily. */
  stale(policyVersion: number): { id: number; installs: number }[] {
    return this.s.stale.all(policyVersion);
  }

  /** The items' JSON by id. */
  itemTexts(ids: readonly number[]): { id: number; item: string }[] {
    return ids.length === 0 ? [] : this.s.items.all(JSON.stringify(ids));
  }

  /** Installed items stored under `policyVersion` with this subject and status. */
  idsOf(policyVersion: number, subject: string, status: string): number[] {
    return this.s.idsOf.all(policyVersion, subject, status).map((r) => r.id);
  }

  /** Hosts holding a seat, by licensed title. */
  seatCounts(): Map<string, number> {
    return new Map(this.s.seats.all().map((r) => [r.title, r.n]));
  }

  /** Hosts holding a seat of `title` after host id `after`, in id order. */
  seatHolders(title: string, after: string, limit: number): { id: string; hostname: string }[] {
    return this.s.seatHolders.all(title, after, limit);
  }

  /**
   * Counted hosts after host id `after` that have any of `ids`, reading at most `scanMax`
   * inventories and stopping at `limit` hosts found. `last`: the last host read, if any was.
   */
  hostsWithItems(ids: readonly number[], after: string, limit: number, scanMax: number): { hosts: { id: string; hostname: string }[]; last: string | undefined; scanned: number } {
    const hosts: { id: string; hostname: string }[] = [];
    let last: string | undefined;
    let scanned = 0;
    const has = listHasAny(ids);
    for (const row of this.s.scan.iterate(after, scanMax)) {
      scanned++;
      last = row.id;
      if (has(row.item_ids)) hosts.push({ id: row.id, hostname: row.hostname });
      if (hosts.length >= limit) break;
    }
    return { hosts, last, scanned };
  }
}

/**
 * Whether a stored list of item ids (compact JSON, as JSON.stringify and SQLite's json_group_array
 * write it: `[1,22,333]`) holds any of `ids`. A few ids are looked for as delimited text, which
 * reads the list without parsing it; many, in the parsed list.
 */
export function listHasAny(ids: readonly number[]): (list: string) => boolean {
  if (ids.length <= 8) {
    const needles = ids.map((id) => `,${id},`);
    return (list) => {
      // `[1,2,3]` → `,1,2,3,`: every id between two commas.
      const body = `,${list.slice(1, -1)},`;
      return needles.some((n) => body.includes(n));
    };
  }
  const wanted = new Set(ids);
  return (list) => (JSON.parse(list) as number[]).some((id) => wanted.has(id));
}
