import type { SoftwareItem } from '@vigil/shared';
import type { Db } from './database.js';
import { itemHash } from './item-hash.js';
import { itemKey, sharedMeta } from '../policy/software/item-key.js';

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

/** A distinct item as remembered in memory: its classification and its package identity. */
interface KnownItem extends ItemRow {
  identity: string;
}

/** A host's item ids as read (or last written) in the current transaction, indexed by identity. */
interface OpenList {
  ids: Set<number>;
  byIdentity: Map<string, number>;
  /** Whether the host's items are counted in `software_installs` (false once it is retired). */
  counted: boolean;
}

/** A package's identity, as agents diff inventories: source + name + architecture. */
const identityKey = (source: string, name: string, arch: string) => `${source}\u0000${name}\u0000${arch}`;
/** Whether a row is classified under the classifier's version. */
const isCurrent = (row: ItemRow, classifier: SoftwareClassifier): boolean => row.policy_version === classifier.version && row.status !== null && row.subject !== null;
const identityOf = (i: Pick<SoftwareItem, 'source' | 'name' | 'arch'>) => identityKey(i.source, i.name, i.arch ?? '');

/** Distinct items remembered in memory (id, identity and classification), at most. */
const ITEM_CACHE_MAX = 200_000;
/**
 * Hosts' lists kept in memory between transactions, at most (the least recently used go first):
 * a host sending a few diffs in a row then costs no parse of its whole list and no rebuilt sets.
 * Each is 50–150 KB (700–3,000 packages, with their identity keys). At 500 the lists held 80 MB at
 * 2,000 agents and ~300 MB in the 20,000-agent bench for ~2 % fewer instructions per software event
 * (a fleet's hosts rarely diff twice within minutes, so a large cache mostly serves the benchmark):
 * a few bursty hosts' worth is kept.
 */
const LIST_CACHE_MAX = 32;

/**
 * Every host's installed software, each distinct item stored once: `software_items` holds each
 * distinct package (its JSON, its catalogue status and alert subject under `policy_version`) and
 * `host_inventories` one row per host with the ids of its items (a JSON array, ~5 bytes a package
 * instead of a row each). A fleet installs the same packages over and over, so a 700-package
 * snapshot writes one short row and classifies only items never seen before. Classification
 * depends on the item and the policy only, so it is kept (and refreshed) per item, not per host.
 *
 * Each item's `installs` (how many counted hosts have it) changes in the same transaction as the
 * lists, so the fleet's software is read from `software_items` alone: the changes are summed per
 * item in memory and written at the end of the transaction, one `UPDATE … installs = installs + n`
 * per item whose count changed (a batch of snapshots from hosts built from one image touches each
 * shared package once, not once per host). A retired host's list stays but is not counted.
 *
 * Runs inside the caller's transaction. The lists of the hosts touched in a transaction are kept
 * in memory until it ends (`endTransaction`), and a list changed by diffs is written once then, so
 * several diffs of one host in a batch read and write its list once. A failed savepoint takes its
 * changes back through the undo log it is given (`useUndoLog`); a rolled-back transaction drops
 * everything (`forgetCache`).
 */
export class SoftwareInventory {
  /** Item ids by their key (`itemKey`: one-to-one with the item's fields, cheaper than its JSON). */
  private readonly idByKey = new Map<string, number>();
  /**
   * What a shared item's `idFor` must be for its `id` to be this inventory's (`sharedMeta`): a new
   * object whenever remembered ids may be gone, with `idByKey`.
   */
  private idEpoch: object = {};
  /** Items by id. */
  private readonly known = new Map<number, KnownItem>();
  /**
   * Each whole list's item ids as resolved, in its order: a snapshot's list is stored by ingest and
   * by the host state (then judged), and resolving its ~1,000 items (each one's JSON, a lookup by it)
   * once instead of twice was ~10 % of the main process's time in a fleet ramp. One entry per list,
   * not per item (a WeakMap entry per item object cost more than the JSON it saved). Started afresh
   * whenever remembered ids may be gone (`forgetItems`).
   */
  private resolvedLists = new WeakMap<readonly SoftwareItem[], readonly number[]>();
  /**
   * Hosts' lists as stored (or as changed in the current transaction, written by `flush`), least
   * recently used first; kept between transactions up to LIST_CACHE_MAX, dropped on a rollback.
   */
  private readonly lists = new Map<string, OpenList>();
  /** Hosts whose list changed by a diff and is not written yet (written once, by `flush`). */
  private readonly dirty = new Set<string>();
  /** Where to log how to take back an in-memory change (a failed savepoint), if anywhere. */
  private undoLog: ((undo: () => void) => void) | undefined;
  private changes = 0;
  /** Installs gained (or lost) per item id in this transaction, not written yet (written by `flush`). */
  private readonly counts = new Map<number, number>();
  private readonly db: Db;
  private readonly s;

  constructor(db: Db) {
    this.db = db;
    const ITEMS = 'FROM host_inventories h, json_each(h.item_ids) j JOIN software_items i ON i.id = j.value';
    this.s = {
      itemById: db.prepare<[number], { item: string }>('SELECT item FROM software_items WHERE id = ?'),
      // Through the small integer index on the hash; the text decides (hashes can collide).
      itemByText: db.prepare<[number, string], ItemRow>('SELECT id, status, subject, policy_version FROM software_items WHERE item_hash = ? AND item = ?'),
      itemsByIds: db.prepare<[string], ItemRow & { source: string; name: string; arch: string }>(
        'SELECT id, source, name, arch, status, subject, policy_version FROM software_items WHERE id IN (SELECT value FROM json_each(?))',
      ),
      insertItem: db.prepare<[string, number, string, string, string, string | null, string | null, number | null]>(
        'INSERT INTO software_items (item, item_hash, source, name, arch, status, subject, policy_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      classifyItem: db.prepare<[string | null, string | null, number | null, number]>('UPDATE software_items SET status = ?, subject = ?, policy_version = ? WHERE id = ?'),
      bySubject: db.prepare<[string], { id: number; item: string; status: string | null }>(
        "SELECT id, item, status FROM software_items WHERE subject = ? AND (status IS NULL OR status IN ('unapproved', 'prohibited'))",
      ),
      items: db.prepare<[string], { item: string }>(`SELECT i.item ${ITEMS} WHERE h.host_id = ? ORDER BY i.source, i.name, i.arch`),
      classified: db.prepare<[string], Omit<ClassifiedPackage, 'parsed'> & { item: string }>(
        `SELECT i.id, i.source, i.name, i.arch, i.item, i.status, i.subject, i.policy_version ${ITEMS} WHERE h.host_id = ? ORDER BY i.source, i.name, i.arch`,
      ),
      licensed: db.prepare<[string], { subject: string }>(`SELECT DISTINCT i.subject ${ITEMS} WHERE h.host_id = ? AND i.status = 'licensed'`),
      list: db.prepare<[string], { item_ids: string; counted: number }>('SELECT item_ids, counted FROM host_inventories WHERE host_id = ?'),
      // software_installs (migration 10): a row per item from its first install.
      bump: db.prepare<[number, number]>(
        'INSERT INTO software_installs (item_id, installs) VALUES (?, ?) ON CONFLICT (item_id) DO UPDATE SET installs = installs + excluded.installs',
      ),
      bumpMany: db.prepare<[number, string]>(
        'INSERT INTO software_installs (item_id, installs) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT (item_id) DO UPDATE SET installs = installs + excluded.installs',
      ),
      uncountAll: db.prepare<[string]>(
        'UPDATE software_installs SET installs = installs - 1 WHERE item_id IN (SELECT j.value FROM host_inventories h, json_each(h.item_ids) j WHERE h.host_id = ? AND h.counted = 1)',
      ),
      markUncounted: db.prepare<[string]>('UPDATE host_inventories SET counted = 0 WHERE host_id = ?'),
      setList: db.prepare<[string, string]>('INSERT INTO host_inventories (host_id, item_ids) VALUES (?, ?) ON CONFLICT (host_id) DO UPDATE SET item_ids = excluded.item_ids'),
      clear: db.prepare<[string]>('DELETE FROM host_inventories WHERE host_id = ?'),
    };
  }

  /**
   * Goes up whenever installs or classifications may have changed (a rolled-back change counts
   * too): what was computed from `software_items` at one generation holds until the next.
   */
  get generation(): number {
    return this.changes;
  }

  /** The host's inventory, ordered by identity. */
  items(hostId: string): SoftwareItem[] {
    this.flushHost(hostId);
    return this.s.items.all(hostId).map((r) => JSON.parse(r.item) as SoftwareItem);
  }

  /** The host's packages with their stored classification, ordered by identity. */
  classified(hostId: string): ClassifiedPackage[] {
    this.flushHost(hostId);
    return this.s.classified.all(hostId).map(({ item, ...r }) => ({ ...r, parsed: JSON.parse(item) as SoftwareItem }));
  }

  /** Stores an item's classification under `version` (for every host that has it). */
  reclassify(id: number, status: string, subject: string, version: number): void {
    this.changes++;
    this.s.classifyItem.run(status, subject, version, id);
    const k = this.known.get(id);
    if (k) this.known.set(id, { ...k, status, subject, policy_version: version });
  }

  /**
   * The packages of one subject on a host that can hold a finding (stored as unapproved,
   * prohibited or not classified), with their stored status.
   */
  ofSubject(hostId: string, subject: string): { item: SoftwareItem; status: string | null }[] {
    const candidates = this.s.bySubject.all(subject);
    if (candidates.length === 0) return [];
    const { ids } = this.open(hostId);
    return candidates.filter((r) => ids.has(r.id)).map((r) => ({ item: JSON.parse(r.item) as SoftwareItem, status: r.status }));
  }

  /** Licensed titles the host's packages hold (as classified). */
  licensedSubjects(hostId: string): Set<string> {
    this.flushHost(hostId);
    return new Set(this.s.licensed.all(hostId).map((r) => r.subject));
  }

  /**
   * Applies a diff to the host's inventory: `removed` go (by identity), then `installed` come (each
   * replacing the package of its identity). Returns the stored classification of each removed
   * package the host had, and the classification of each installed one under the classifier.
   */
  applyDiff(
    hostId: string,
    removed: readonly SoftwareItem[],
    installed: readonly SoftwareItem[],
    classifier: SoftwareClassifier | undefined,
  ): { removed: StoredClassification[]; installed: ({ status: string; subject: string } | undefined)[] } {
    this.changes++;
    const list = this.open(hostId);
    const take = (identity: string): KnownItem | undefined => {
      const id = list.byIdentity.get(identity);
      if (id === undefined) return undefined;
      list.byIdentity.delete(identity);
      const counted = list.ids.delete(id) && list.counted;
      if (counted) this.count(id, -1);
      this.undoLog?.(() => {
        if (counted) this.count(id, 1);
        list.ids.add(id);
        list.byIdentity.set(identity, id);
      });
      return this.knownItem(id);
    };
    const out = { removed: [] as StoredClassification[], installed: [] as ({ status: string; subject: string } | undefined)[] };
    for (const item of removed) {
      const row = take(identityOf(item));
      if (row) out.removed.push({ status: row.status, subject: row.subject });
    }
    for (const item of installed) {
      const identity = identityOf(item);
      take(identity);
      const { row, classification } = this.resolve(item, classifier);
      const had = list.ids.has(row.id);
      list.ids.add(row.id);
      const counted = !had && list.counted;
      if (counted) this.count(row.id, 1);
      list.byIdentity.set(identity, row.id);
      this.undoLog?.(() => {
        if (counted) this.count(row.id, -1);
        if (!had) list.ids.delete(row.id);
        list.byIdentity.delete(identity);
      });
      out.installed.push(classification);
    }
    // Written once at the end of the transaction (or before the host's list is read by SQL).
    this.dirty.add(hostId);
    return out;
  }

  /** Makes the host's inventory exactly `items` (of one identity, the last stands). */
  replace(hostId: string, items: readonly SoftwareItem[], classifier: SoftwareClassifier | undefined): void {
    this.changes++;
    const byIdentity = new Map<string, number>();
    for (const id of this.resolveList(items, classifier)) byIdentity.set(this.row(id).identity, id);
    const ids = [...byIdentity.values()];
    const json = JSON.stringify(ids);
    const open = this.lists.get(hostId);
    const stored = this.s.list.get(hostId);
    const after = new Set(ids);
    if (this.dirty.has(hostId) || stored?.item_ids !== json) {
      // What is counted now: the open list (diffs of this transaction are counted already), else the stored one.
      const before = open ? open.ids : new Set(stored ? (JSON.parse(stored.item_ids) as number[]) : []);
      const counted = open ? open.counted : (stored?.counted ?? 1) === 1;
      this.s.setList.run(hostId, json);
      if (counted) this.recount(before, after);
    }
    this.setOpen(hostId, { ids: after, byIdentity, counted: open ? open.counted : (stored?.counted ?? 1) === 1 });
  }

  /** Removes every package of the host. */
  clear(hostId: string): void {
    this.uncount(hostId);
    this.s.clear.run(hostId);
    this.setOpen(hostId, undefined);
  }

  /** The host no longer counts (retired): its items' installs go down, its list stays as it was. */
  uncount(hostId: string): void {
    this.changes++;
    this.flushHost(hostId);
    this.s.uncountAll.run(hostId);
    this.s.markUncounted.run(hostId);
    const open = this.lists.get(hostId);
    if (open?.counted) {
      open.counted = false;
      this.undoLog?.(() => (open.counted = true));
    }
  }

  /** Counts the ids that came and uncounts those that went. */
  private recount(before: ReadonlySet<number>, after: ReadonlySet<number>): void {
    const came: number[] = [];
    const went: number[] = [];
    for (const id of after) if (!before.has(id)) came.push(id);
    for (const id of before) if (!after.has(id)) went.push(id);
    for (const id of came) this.count(id, 1);
    for (const id of went) this.count(id, -1);
    this.undoLog?.(() => {
      for (const id of came) this.count(id, -1);
      for (const id of went) this.count(id, 1);
    });
  }

  /** One more (or fewer) counted host has item `id`: summed, written by `flush` (at once outside a transaction). */
  private count(id: number, delta: number): void {
    if (!this.db.inTransaction) {
      this.s.bump.run(id, delta);
      return;
    }
    const n = (this.counts.get(id) ?? 0) + delta;
    if (n === 0) this.counts.delete(id);
    else this.counts.set(id, n);
  }

  /** Replaces the host's open list (written already), so that a failed savepoint can take it back. */
  private setOpen(hostId: string, list: OpenList | undefined): void {
    const before = this.lists.get(hostId);
    const wasDirty = this.dirty.delete(hostId);
    if (list) this.lists.set(hostId, list);
    else this.lists.delete(hostId);
    this.undoLog?.(() => {
      if (before) this.lists.set(hostId, before);
      else this.lists.delete(hostId);
      if (wasDirty) this.dirty.add(hostId);
    });
  }

  /** Logs how to take back in-memory changes (the host state repository's savepoint log). */
  useUndoLog(log: (undo: () => void) => void): void {
    this.undoLog = log;
  }

  /** Writes the lists changed by diffs and the installs counted (the store's `transaction` calls this just before it commits). */
  flush(): void {
    for (const hostId of [...this.dirty]) this.flushHost(hostId);
    // One UPDATE per distinct change (mostly +1: hosts gaining items), over the ids as a JSON array,
    // not one per item: a snapshot of a new host touches ~1,000 items.
    const byDelta = new Map<number, number[]>();
    for (const [id, delta] of this.counts) {
      const ids = byDelta.get(delta);
      if (ids) ids.push(id);
      else byDelta.set(delta, [id]);
    }
    for (const [delta, ids] of byDelta) this.s.bumpMany.run(delta, JSON.stringify(ids));
    this.counts.clear();
  }

  private flushHost(hostId: string): void {
    if (!this.dirty.delete(hostId)) return;
    const list = this.lists.get(hostId);
    if (list) this.s.setList.run(hostId, JSON.stringify([...list.ids]));
  }

  /** An item by id, from memory or the store. */
  private knownItem(id: number): KnownItem | undefined {
    const k = this.known.get(id);
    if (k) return k;
    const [r] = this.s.itemsByIds.all(JSON.stringify([id]));
    if (!r) return undefined;
    const item = { id: r.id, status: r.status, subject: r.subject, policy_version: r.policy_version, identity: identityKey(r.source, r.name, r.arch) };
    this.remember(item);
    return item;
  }

  /** The host's list in this transaction (read once), with every item known by id. */
  private open(hostId: string): OpenList {
    let list = this.lists.get(hostId);
    if (list) {
      // Most recently used last.
      this.lists.delete(hostId);
      this.lists.set(hostId, list);
      return list;
    }
    const stored = this.s.list.get(hostId);
    const ids = JSON.parse(stored?.item_ids ?? '[]') as number[];
    const missing = ids.filter((id) => !this.known.has(id));
    if (missing.length > 0) {
      for (const r of this.s.itemsByIds.all(JSON.stringify(missing))) this.remember({ id: r.id, status: r.status, subject: r.subject, policy_version: r.policy_version, identity: identityKey(r.source, r.name, r.arch) });
    }
    const byIdentity = new Map<string, number>();
    for (const id of ids) {
      const k = this.known.get(id);
      if (k) byIdentity.set(k.identity, id);
    }
    list = { ids: new Set(ids), byIdentity, counted: (stored?.counted ?? 1) === 1 };
    this.lists.set(hostId, list);
    return list;
  }

  /** The transaction is about to commit: write the changed lists; keep the most recently used in memory. */
  endTransaction(): void {
    this.flush();
    for (const hostId of this.lists.keys()) {
      if (this.lists.size <= LIST_CACHE_MAX) break;
      this.lists.delete(hostId);
    }
    // Between transactions nothing relies on what is remembered: start afresh when it is too much.
    if (this.known.size > ITEM_CACHE_MAX) {
      this.known.clear();
      this.idByKey.clear();
      this.idEpoch = {};
    }
  }

  /** The distinct items' ids for a list (inserted, unclassified, if new), in order. */
  idsOf(items: readonly SoftwareItem[]): readonly number[] {
    return this.resolveList(items, undefined);
  }

  /**
   * The ids of a list's items, in order (each inserted if new), resolved once per list; with a
   * classifier, each item is classified under its version too.
   */
  private resolveList(items: readonly SoftwareItem[], classifier: SoftwareClassifier | undefined): readonly number[] {
    let ids = this.resolvedLists.get(items);
    if (!ids) {
      const out: number[] = new Array<number>(items.length);
      for (let i = 0; i < items.length; i++) {
        // Most items of a list are known and classified under the version in force: their id
        // without the rest of resolve (or the object it returns).
        const item = items[i]!;
        const meta = sharedMeta(item);
        const id = meta?.idFor === this.idEpoch ? meta.id : this.idByKey.get(itemKey(item));
        let row: ItemRow | undefined = id === undefined ? undefined : this.known.get(id);
        if (!row || (classifier && !isCurrent(row, classifier))) row = this.resolve(item, classifier).row;
        out[i] = row.id;
        if (meta && meta.idFor !== this.idEpoch) {
          meta.idFor = this.idEpoch;
          meta.id = row.id;
        }
      }
      ids = out;
      this.resolvedLists.set(items, ids);
    } else if (classifier) {
      for (let i = 0; i < ids.length; i++) {
        const row = this.row(ids[i]!);
        if (!isCurrent(row, classifier)) this.resolve(items[i]!, classifier);
      }
    }
    return ids;
  }

  /** A resolved item's row (from memory, else the store). */
  private row(id: number): KnownItem {
    const k = this.knownItem(id);
    if (!k) throw new Error(`software item ${id} is not stored`);
    return k;
  }

  /** The items of these ids, in order (undefined for an unknown id). */
  itemsOf(ids: readonly number[]): (SoftwareItem | undefined)[] {
    return ids.map((id) => {
      const r = this.s.itemById.get(id);
      return r ? (JSON.parse(r.item) as SoftwareItem) : undefined;
    });
  }

  /** Forgets everything in memory, lists not written yet included (the transaction rolled back). */
  forgetCache(): void {
    this.forgetItems();
    this.lists.clear();
    this.dirty.clear();
    this.counts.clear();
  }

  /** Forgets the remembered items (a savepoint rolled back: items inserted in it are gone). */
  forgetItems(): void {
    this.resolvedLists = new WeakMap();
    this.idByKey.clear();
    this.known.clear();
    this.idEpoch = {};
  }

  /** Remembers an item (bounded: see `endTransaction`). */
  private remember(item: KnownItem, key?: string): void {
    this.known.set(item.id, item);
    if (key !== undefined) this.idByKey.set(key, item.id);
  }

  /**
   * The distinct item's row (inserted if new), classified under the classifier's version: an item
   * stored under another version is re-classified (for every host that has it).
   */
  private resolve(item: SoftwareItem, classifier: SoftwareClassifier | undefined): { row: ItemRow; classification: { status: string; subject: string } | undefined } {
    const key = itemKey(item);
    const cachedId = this.idByKey.get(key);
    let row: KnownItem | undefined = cachedId === undefined ? undefined : this.known.get(cachedId);
    if (!row) {
      const text = JSON.stringify(item);
      const hash = itemHash(text);
      const stored = this.s.itemByText.get(hash, text);
      if (stored) row = { ...stored, identity: identityOf(item) };
      else {
        const c = classifier?.classify(item);
        const id = Number(this.s.insertItem.run(text, hash, item.source, item.name, item.arch ?? '', c?.status ?? null, c?.subject ?? null, classifier?.version ?? null).lastInsertRowid);
        row = { id, status: c?.status ?? null, subject: c?.subject ?? null, policy_version: classifier?.version ?? null, identity: identityOf(item) };
      }
      this.remember(row, key);
    }
    if (classifier && !isCurrent(row, classifier)) {
      const c = classifier.classify(item);
      this.s.classifyItem.run(c.status, c.subject, classifier.version, row.id);
      row = { ...row, status: c.status, subject: c.subject, policy_version: classifier.version };
      this.remember(row, key);
    }
    const classification = classifier && row.status !== null && row.subject !== null ? { status: row.status, subject: row.subject } : undefined;
    return { row, classification };
  }
}
