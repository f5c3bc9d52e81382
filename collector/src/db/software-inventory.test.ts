import type { SoftwareItem } from '@vigil/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostFacts } from '../test-support/harness.js';
import { SoftwareInventory, type SoftwareClassifier } from './software-inventory.js';
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
});
