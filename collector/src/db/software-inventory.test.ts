import type { SoftwareItem } from '@vigil/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostFacts } from '../test-support/harness.js';
import { sharedItem } from '../policy/software/item-key.js';
import { SoftwareInventory, type SoftwareClassifier } from './software-inventory.js';
import { listHasAny } from './software-repository.js';
import { openStore, type Store } from './store.js';

let store: Store;
let inventory: SoftwareInventory;
let h1: string;
let h2: string;
beforeEach(() => {
  store = openStore({ dataDir: ':memory:', silentAfterMs: 60_000 });
  inventory = new SoftwareInventory(store.db);
  h1 = store.hosts.create({ ...hostFacts(), hostname: 'one' }, [], null, 1_000);
  h2 = store.hosts.create({ ...hostFacts(), hostname: 'two' }, [], null, 1_000);
});
afterEach(() => store.close());

const pkg = (name: string, version: string, arch = 'amd64'): SoftwareItem => ({ name, version, source: 'dpkg', publisher: 'Debian', arch });
/** Everything named zoom is unapproved; the rest approved. */
const classifier = (version: number): SoftwareClassifier => ({
  version,
  classify: (i) => ({ status: i.name === 'zoom' ? 'unapproved' : 'approved', subject: `${i.source}:${i.name}` }),
});
const count = (table: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('SoftwareInventory', () => {
  it('keeps host lists in memory between transactions, and forgets them when a transaction rolls back', () => {
    const c = classifier(1);
    // What the store does around its transactions (the host state repository calls these).
    const tx = <T>(fn: () => T): T => {
      try {
        return store.transaction(() => {
          const r = fn();
          inventory.endTransaction();
          return r;
        });
      } catch (err) {
        inventory.forgetCache();
        throw err;
      }
    };
    tx(() => inventory.replace(h1, [pkg('vim', '9.0'), pkg('bash', '5.2')], c));
    tx(() => inventory.applyDiff(h1, [], [pkg('vim', '9.1')], c));
    expect(() =>
      tx(() => {
        inventory.applyDiff(h1, [pkg('bash', '5.2')], [pkg('zoom', '5.17')], c);
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    // The next diff applies to what was committed, not to the list the rolled-back one left in memory.
    const diff = tx(() => inventory.applyDiff(h1, [pkg('bash', '5.2')], [], c));
    expect(diff.removed).toEqual([{ status: 'approved', subject: 'dpkg:bash' }]);
    expect(inventory.items(h1)).toEqual([pkg('vim', '9.1')]);
    expect(store.db.prepare('SELECT item_ids FROM host_inventories WHERE host_id = ?').get(h1)).toEqual({ item_ids: JSON.stringify([inventory.idsOf([pkg('vim', '9.1')])[0]]) });
  });

  it('keeps each host inventory as a diff changes it, one package per identity, items stored once', () => {
    const c = classifier(1);
    store.transaction(() => {
      inventory.replace(h1, [pkg('vim', '9.0'), pkg('bash', '5.2'), pkg('bash', '5.2', 'i386')], c);
      inventory.replace(h2, [pkg('bash', '5.2'), pkg('zoom', '5.17')], c);
    });
    expect(inventory.items(h1)).toEqual([pkg('bash', '5.2'), pkg('bash', '5.2', 'i386'), pkg('vim', '9.0')]);
    expect(count('software_items')).toBe(4);

    const diff = store.transaction(() => inventory.applyDiff(h1, [pkg('bash', '5.2', 'i386'), pkg('vim', '9.0'), pkg('nano', '7')], [pkg('vim', '9.1'), pkg('zoom', '5.17')], c));
    expect(diff.removed).toEqual([
      { status: 'approved', subject: 'dpkg:bash' },
      { status: 'approved', subject: 'dpkg:vim' },
    ]);
    expect(diff.installed).toEqual([
      { status: 'approved', subject: 'dpkg:vim' },
      { status: 'unapproved', subject: 'dpkg:zoom' },
    ]);
    expect(inventory.items(h1)).toEqual([pkg('bash', '5.2'), pkg('vim', '9.1'), pkg('zoom', '5.17')]);
    expect(inventory.items(h2)).toEqual([pkg('bash', '5.2'), pkg('zoom', '5.17')]);
    expect(count('software_items')).toBe(5);

    // Installing another version of a package replaces it; the other host keeps its own.
    store.transaction(() => inventory.applyDiff(h2, [], [pkg('zoom', '5.18')], c));
    expect(inventory.items(h2)).toEqual([pkg('bash', '5.2'), pkg('zoom', '5.18')]);
    expect(inventory.ofSubject(h2, 'dpkg:zoom')).toEqual([{ item: pkg('zoom', '5.18'), status: 'unapproved' }]);
    expect(inventory.ofSubject(h1, 'dpkg:zoom')).toEqual([{ item: pkg('zoom', '5.17'), status: 'unapproved' }]);

    // A snapshot replaces everything.
    store.transaction(() => inventory.replace(h1, [pkg('vim', '9.1')], c));
    expect(inventory.items(h1)).toEqual([pkg('vim', '9.1')]);
    expect(inventory.ofSubject(h1, 'dpkg:zoom')).toEqual([]);
  });

  it('re-classifies an item stored under an older policy when it is written again, for every host', () => {
    store.transaction(() => {
      inventory.replace(h1, [pkg('zoom', '5.17')], classifier(1));
      inventory.replace(h2, [pkg('zoom', '5.17')], classifier(1));
    });
    const renamed: SoftwareClassifier = { version: 2, classify: () => ({ status: 'prohibited', subject: 'Zoom' }) };
    store.transaction(() => inventory.replace(h1, [pkg('zoom', '5.17')], renamed));
    expect(inventory.classified(h2).map((p) => [p.status, p.subject, p.policy_version])).toEqual([['prohibited', 'Zoom', 2]]);
  });

  it('forgets what a rolled-back transaction wrote', () => {
    const c = classifier(1);
    store.transaction(() => inventory.replace(h1, [pkg('bash', '5.2')], c));
    expect(() =>
      store.transaction(() => {
        inventory.applyDiff(h1, [pkg('bash', '5.2')], [pkg('zoom', '5.17')], c);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    inventory.forgetCache(); // what the host state repository does on rollback
    expect(inventory.items(h1)).toEqual([pkg('bash', '5.2')]);
    store.transaction(() => inventory.applyDiff(h1, [], [pkg('vim', '9.0')], c));
    expect(inventory.items(h1)).toEqual([pkg('bash', '5.2'), pkg('vim', '9.0')]);
    expect(count('software_items')).toBe(2);
  });
  it('gives a package shared by many lists (the gateway dictionary) its stored id, never one a rollback took back', () => {
    const c = classifier(1);
    const zoom = sharedItem(pkg('zoom', '5.17'));
    const bash = sharedItem(pkg('bash', '5.2'));
    // zoom is inserted in a transaction that rolls back: the id it was given is gone.
    expect(() =>
      store.transaction(() => {
        inventory.replace(h1, [bash, zoom], c);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    inventory.forgetCache();
    store.transaction(() => inventory.replace(h2, [zoom], c));
    store.transaction(() => inventory.replace(h1, [zoom, bash], c));
    inventory.endTransaction();
    expect(inventory.items(h2)).toEqual([pkg('zoom', '5.17')]);
    expect(inventory.items(h1)).toEqual([pkg('bash', '5.2'), pkg('zoom', '5.17')]);
    expect(count('software_items')).toBe(2);
    // Another inventory (another store) in the same process keeps its own ids for the same objects.
    const other = openStore({ dataDir: ':memory:', silentAfterMs: 60_000 });
    try {
      const otherInventory = new SoftwareInventory(other.db);
      const h = other.hosts.create({ ...hostFacts(), hostname: 'three' }, [], null, 1_000);
      other.transaction(() => otherInventory.replace(h, [pkg('filler', '1')], c));
      other.transaction(() => otherInventory.replace(h, [bash, zoom], c));
      expect(otherInventory.items(h)).toEqual([pkg('bash', '5.2'), pkg('zoom', '5.17')]);
      expect(inventory.items(h1)).toEqual([pkg('bash', '5.2'), pkg('zoom', '5.17')]);
    } finally {
      other.close();
    }
  });
  it('keeps each item\'s install count in step with every inventory change, rolled-back ones and retirements included', () => {
    const c = classifier(1);
    // As the store's transaction does with the host state repository's inventory: flush before commit.
    const tx = <T>(fn: () => T): T =>
      store.transaction(() => {
        const r = fn();
        if (!nested) inventory.endTransaction();
        return r;
      });
    let nested = false;
    /** Installs as stored, by item name and version. */
    const installs = () =>
      Object.fromEntries(
        (store.db.prepare('SELECT i.name, i.item, coalesce(n.installs, 0) AS installs FROM software_items i LEFT JOIN software_installs n ON n.item_id = i.id ORDER BY i.id').all() as { name: string; item: string; installs: number }[]).map((r) => [
          `${r.name} ${(JSON.parse(r.item) as SoftwareItem).version}`,
          r.installs,
        ]),
      );
    /** The same counted from the lists themselves, hosts retired left out. */
    const fromLists = () =>
      Object.fromEntries(
        (
          store.db
            .prepare(
              `SELECT i.name, i.item, (SELECT count(*) FROM host_inventories h, json_each(h.item_ids) j WHERE h.counted = 1 AND j.value = i.id) AS n FROM software_items i ORDER BY i.id`,
            )
            .all() as { name: string; item: string; n: number }[]
        ).map((r) => [`${r.name} ${(JSON.parse(r.item) as SoftwareItem).version}`, r.n]),
      );
    tx(() => {
      inventory.replace(h1, [pkg('bash', '5.2'), pkg('vim', '9.0')], c);
      inventory.replace(h2, [pkg('bash', '5.2'), pkg('zoom', '5.17')], c);
    });
    expect(installs()).toEqual({ 'bash 5.2': 2, 'vim 9.0': 1, 'zoom 5.17': 1 });
    // Diffs: an upgrade moves the count from one version to the other; several diffs in one transaction.
    tx(() => {
      inventory.applyDiff(h1, [pkg('vim', '9.0')], [pkg('vim', '9.1')], c);
      inventory.applyDiff(h1, [], [pkg('zoom', '5.17')], c);
      inventory.applyDiff(h2, [pkg('bash', '5.2')], [], c);
    });
    expect(installs()).toEqual({ 'bash 5.2': 1, 'vim 9.0': 0, 'zoom 5.17': 2, 'vim 9.1': 1 });
    // A snapshot after a diff in the same transaction; the same snapshot again changes nothing.
    tx(() => {
      inventory.applyDiff(h2, [], [pkg('nano', '7')], c);
      inventory.replace(h2, [pkg('zoom', '5.18')], c);
    });
    tx(() => inventory.replace(h2, [pkg('zoom', '5.18')], c));
    expect(installs()).toEqual({ 'bash 5.2': 1, 'vim 9.0': 0, 'zoom 5.17': 1, 'vim 9.1': 1, 'nano 7': 0, 'zoom 5.18': 1 });
    // A failed savepoint and a rolled-back transaction take their counts back.
    // (What the host state repository does: log the in-memory undos, run them when a savepoint fails.)
    const undo: (() => void)[] = [];
    inventory.useUndoLog((u) => undo.push(u));
    tx(() => {
      nested = true;
      expect(() =>
        tx(() => {
          inventory.applyDiff(h1, [pkg('bash', '5.2')], [pkg('nano', '7')], c);
          throw new Error('savepoint');
        }),
      ).toThrow('savepoint');
      inventory.forgetItems();
      while (undo.length > 0) undo.pop()?.();
      nested = false;
      inventory.applyDiff(h1, [], [pkg('nano', '7')], c);
    });
    expect(() =>
      tx(() => {
        inventory.replace(h1, [], c);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    inventory.forgetCache();
    expect(installs()).toMatchObject({ 'bash 5.2': 1, 'nano 7': 1, 'zoom 5.17': 1 });
    expect(inventory.items(h1)).toEqual([pkg('bash', '5.2'), pkg('nano', '7'), pkg('vim', '9.1'), pkg('zoom', '5.17')]);
    // Retired: the list stays, the counts go; later writes to it count nothing.
    tx(() => inventory.uncount(h1));
    expect(inventory.items(h1)).toHaveLength(4);
    expect(installs()).toEqual({ 'bash 5.2': 0, 'vim 9.0': 0, 'zoom 5.17': 0, 'vim 9.1': 0, 'nano 7': 0, 'zoom 5.18': 1 });
    tx(() => inventory.applyDiff(h1, [pkg('bash', '5.2')], [pkg('zoom', '5.18')], c));
    tx(() => inventory.replace(h1, [pkg('vim', '9.0')], c));
    expect(installs()).toEqual({ 'bash 5.2': 0, 'vim 9.0': 0, 'zoom 5.17': 0, 'vim 9.1': 0, 'nano 7': 0, 'zoom 5.18': 1 });
    expect(installs()).toEqual(fromLists());
  });
});

describe('listHasAny', () => {
  it('finds ids in a stored list exactly, by text for a few ids and parsed for many', () => {
    const list = JSON.stringify([7, 123, 45, 9]);
    expect(listHasAny([123])(list)).toBe(true);
    expect(listHasAny([7])(list)).toBe(true);
    expect(listHasAny([9])(list)).toBe(true);
    // Neither part of a longer id nor a longer id's part.
    expect(listHasAny([12, 23, 4, 5, 1239])(list)).toBe(false);
    expect(listHasAny([1])('[]')).toBe(false);
    expect(listHasAny([5])('[5]')).toBe(true);
    const many = Array.from({ length: 20 }, (_, i) => 1000 + i);
    expect(listHasAny(many)(list)).toBe(false);
    expect(listHasAny([...many, 45])(list)).toBe(true);
  });
});
