import type { SoftwareItem } from '@vigil/shared';
import type { Db } from './database.js';

/** How the policy in force sees one package: its catalogue status and the alert subject it falls under. */
export interface SoftwareClassifier {
  /** The policy version the classification belongs to (rows of another version are stale). */
  version: number;
  classify(item: SoftwareItem): { status: string; subject: string };
}

/** A stored classification (null: never classified). */
export interface StoredClassification {
  status: string | null;
  subject: string | null;
}

/** One package of a host with the classification stored for it. */
export interface ClassifiedPackage extends StoredClassification {
  /** The distinct item's id (`software_items.id`). */
  id: number;
  source: string;
  name: string;
  arch: string;
  policy_version: number | null;
  parsed: SoftwareItem;
}

interface ItemRow {
  id: number;
  status: string | null;
  subject: string | null;
  policy_version: number | null;
}

/** A package's identity, as agents diff inventories: source + name + architecture. */
const identityKey = (source: string, name: string, arch: string) => `${source}\u0000${name}\u0000${arch}`;

/** Distinct items remembered in memory (id and classification), at most. */
const ITEM_CACHE_MAX = 200_000;

/**
 * Every host's installed software, stored once per distinct item: `software_items` holds each
 * distinct package (its JSON exactly as stored before, its catalogue status and alert subject under
 * `policy_version`) and `host_software` one small row per (host, package identity) pointing at it.
 * A fleet installs the same packages over and over, so a 700-package snapshot mostly writes 700
 * short rows and classifies only items never seen before; a snapshot equal to the stored
 * inventory writes nothing. Classification depends on the item and the policy only, so it is
 * kept (and refreshed) per item, not per host.
 *
 * Runs inside the caller's transaction. The in-memory cache of item ids is dropped whenever a
 * transaction or savepoint rolls back (`forgetCache`), as ids inserted there no longer exist.
 */
export class SoftwareInventory {
  private readonly cache = new Map<string, ItemRow>();
  private readonly s;

  constructor(db: Db) {
    const JOIN = 'FROM host_software h JOIN software_items i ON i.id = h.item_id';
    this.s = {
      itemById: db.prepare<[number], { item: string }>('SELECT item FROM software_items WHERE id = ?'),
      itemByText: db.prepare<[string], ItemRow>('SELECT id, status, subject, policy_version FROM software_items WHERE item = ?'),
      insertItem: db.prepare<[string, string, string, string, string | null, string | null, number | null]>(
        'INSERT INTO software_items (item, source, name, arch, status, subject, policy_version) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      classifyItem: db.prepare<[string | null, string | null, number | null, number]>('UPDATE software_items SET status = ?, subject = ?, policy_version = ? WHERE id = ?'),
      items: db.prepare<[string], { item: string }>(`SELECT i.item ${JOIN} WHERE h.host_id = ? ORDER BY h.source, h.name, h.arch`),
      classified: db.prepare<[string], Omit<ClassifiedPackage, 'parsed'> & { item: string }>(
        `SELECT i.id, h.source, h.name, h.arch, i.item, i.status, i.subject, i.policy_version ${JOIN} WHERE h.host_id = ?`,
      ),
      bySubject: db.prepare<[string, string], { item: string; status: string | null }>(
        // CROSS JOIN keeps this order (the subject's few items, then the host's row for each): left to
        // itself the planner walks all of the host's packages instead.
        `SELECT i.item, i.status FROM software_items i
         CROSS JOIN host_software h ON h.host_id = ? AND h.source = i.source AND h.name = i.name AND h.arch = i.arch AND h.item_id = i.id
         WHERE i.subject = ?`,
      ),
      one: db.prepare<[string, string, string, string], StoredClassification>(
        `SELECT i.status, i.subject ${JOIN} WHERE h.host_id = ? AND h.source = ? AND h.name = ? AND h.arch = ?`,
      ),
      ids: db.prepare<[string], { source: string; name: string; arch: string; item_id: number }>('SELECT source, name, arch, item_id FROM host_software WHERE host_id = ?'),
      upsert: db.prepare<[string, string, string, string, number]>(
        `INSERT INTO host_software (host_id, source, name, arch, item_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (host_id, source, name, arch) DO UPDATE SET item_id = excluded.item_id`,
      ),
      remove: db.prepare<[string, string, string, string]>('DELETE FROM host_software WHERE host_id = ? AND source = ? AND name = ? AND arch = ?'),
      clear: db.prepare<[string]>('DELETE FROM host_software WHERE host_id = ?'),
      licensed: db.prepare<[string], { subject: string }>(`SELECT DISTINCT i.subject ${JOIN} WHERE h.host_id = ? AND i.status = 'licensed'`),
    };
  }

  /** The host's inventory, ordered by identity. */
  items(hostId: string): SoftwareItem[] {
    return this.s.items.all(hostId).map((r) => JSON.parse(r.item) as SoftwareItem);
  }

  /** The host's packages with their stored classification. */
  classified(hostId: string): ClassifiedPackage[] {
    return this.s.classified.all(hostId).map(({ item, ...r }) => ({ ...r, parsed: JSON.parse(item) as SoftwareItem }));
  }

  /** Stores an item's classification under `version` (for every host that has it). */
  reclassify(id: number, status: string, subject: string, version: number): void {
    this.s.classifyItem.run(status, subject, version, id);
    const key = this.keyOfId.get(id);
    if (key !== undefined) this.cache.set(key, { id, status, subject, policy_version: version });
  }

  /** The packages of one subject on a host, with their stored status. */
  ofSubject(hostId: string, subject: string): { item: SoftwareItem; status: string | null }[] {
    return this.s.bySubject.all(hostId, subject).map((r) => ({ item: JSON.parse(r.item) as SoftwareItem, status: r.status }));
  }

  /** The stored classification of the host's package with this identity, if it has one. */
  classificationOf(hostId: string, item: SoftwareItem): StoredClassification | undefined {
    return this.s.one.get(hostId, item.source, item.name, item.arch ?? '');
  }

  /** Licensed titles the host's packages hold (as classified). */
  licensedSubjects(hostId: string): Set<string> {
    return new Set(this.s.licensed.all(hostId).map((r) => r.subject));
  }

  /** Installs (or upgrades to) one item on a host; returns its classification under the classifier. */
  write(hostId: string, item: SoftwareItem, classifier: SoftwareClassifier | undefined): { status: string; subject: string } | undefined {
    const { row, classification } = this.resolve(item, classifier);
    this.s.upsert.run(hostId, item.source, item.name, item.arch ?? '', row.id);
    return classification;
  }

  /** Removes the host's package with this identity. */
  remove(hostId: string, item: SoftwareItem): void {
    this.s.remove.run(hostId, item.source, item.name, item.arch ?? '');
  }

  /** Makes the host's inventory exactly `items`, writing only the rows that differ. */
  replace(hostId: string, items: readonly SoftwareItem[], classifier: SoftwareClassifier | undefined): void {
    const stored = new Map(this.s.ids.all(hostId).map((r) => [identityKey(r.source, r.name, r.arch), r.item_id]));
    if (stored.size === 0) {
      for (const item of items) this.s.upsert.run(hostId, item.source, item.name, item.arch ?? '', this.resolve(item, classifier).row.id);
      return;
    }
    for (const item of items) {
      const arch = item.arch ?? '';
      const key = identityKey(item.source, item.name, arch);
      const { row } = this.resolve(item, classifier);
      if (stored.get(key) !== row.id) this.s.upsert.run(hostId, item.source, item.name, arch, row.id);
      stored.delete(key);
    }
    for (const key of stored.keys()) {
      const [source = '', name = '', arch = ''] = key.split('\u0000');
      this.s.remove.run(hostId, source, name, arch);
    }
  }

  /** Removes every package of the host. */
  clear(hostId: string): void {
    this.s.clear.run(hostId);
  }

  /** The distinct items' ids for a list (inserted, unclassified, if new), in order. */
  idsOf(items: readonly SoftwareItem[]): number[] {
    return items.map((item) => this.resolve(item, undefined).row.id);
  }

  /** The items of these ids, in order (undefined for an unknown id). */
  itemsOf(ids: readonly number[]): (SoftwareItem | undefined)[] {
    return ids.map((id) => {
      const r = this.s.itemById.get(id);
      return r ? (JSON.parse(r.item) as SoftwareItem) : undefined;
    });
  }

  /** Forgets the remembered item ids (after a rollback: ids inserted there are gone). */
  forgetCache(): void {
    this.cache.clear();
    this.keyOfId.clear();
  }

  /** Each item object's JSON (the same parsed objects are resolved by ingest and by the host state). */
  private readonly texts = new WeakMap<SoftwareItem, string>();

  /** Caches an item row by its JSON (bounded: cleared when full). */
  private remember(text: string, row: ItemRow): void {
    if (this.cache.size >= ITEM_CACHE_MAX) {
      this.cache.clear();
      this.keyOfId.clear();
    }
    this.cache.set(text, row);
    this.keyOfId.set(row.id, text);
  }

  /** The cache key (item JSON) of each cached id. */
  private readonly keyOfId = new Map<number, string>();

  /**
   * The distinct item's row (inserted if new), classified under the classifier's version: an item
   * stored under another version is re-classified (for every host that has it).
   */
  private resolve(item: SoftwareItem, classifier: SoftwareClassifier | undefined): { row: ItemRow; classification: { status: string; subject: string } | undefined } {
    let text = this.texts.get(item);
    if (text === undefined) this.texts.set(item, (text = JSON.stringify(item)));
    let row = this.cache.get(text);
    if (!row) {
      row = this.s.itemByText.get(text);
      if (!row) {
        const c = classifier?.classify(item);
        const id = Number(this.s.insertItem.run(text, item.source, item.name, item.arch ?? '', c?.status ?? null, c?.subject ?? null, classifier?.version ?? null).lastInsertRowid);
        row = { id, status: c?.status ?? null, subject: c?.subject ?? null, policy_version: classifier?.version ?? null };
      }
      this.remember(text, row);
    }
    if (classifier && (row.policy_version !== classifier.version || row.status === null || row.subject === null)) {
      const c = classifier.classify(item);
      this.s.classifyItem.run(c.status, c.subject, classifier.version, row.id);
      row = { id: row.id, status: c.status, subject: c.subject, policy_version: classifier.version };
      this.remember(text, row);
    }
    const classification = classifier && row.status !== null && row.subject !== null ? { status: row.status, subject: row.subject } : undefined;
    return { row, classification };
  }
}
