import type { Policy } from '@vigil/shared/policy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../db/store.js';
import { parsePolicy } from '../policy/parse-policy.js';
import { hostFacts } from '../test-support/harness.js';
import { AlertLifecycle } from './alert-lifecycle.js';
import { LicenceCounter } from './licence-counter.js';

const INTERVAL = 1_000;
const TITLE = 'Acme CAD';

let store: Store;
let counter: LicenceCounter;
let hosts: string[];

function policyWithSeats(seats: number): Policy {
  const parsed = parsePolicy(`software:\n  titles:\n    - { title: "${TITLE}", match: { name: acme-cad }, status: licensed, seats: ${seats} }\n`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.policy;
}

beforeEach(() => {
  store = openStore({ dataDir: ':memory:', silentAfterMs: 60_000 });
  const lifecycle = new AlertLifecycle(store.alerts);
  lifecycle.resetOpenHint();
  const policy = policyWithSeats(1);
  counter = new LicenceCounter({ store, lifecycle, policy: () => policy, hostname: () => null, excepted: () => false }, INTERVAL);
  hosts = [0, 1, 2, 3].map((i) => store.hosts.create(hostFacts({ hostname: `pc-${i}` }), [], null, 1_000));
});
afterEach(() => store.close());

/** One committed transaction, as the policy engine runs it. */
function committed<T>(fn: () => T): T {
  const result = store.transaction(fn);
  counter.commit();
  return result;
}

/** One transaction that fails after `fn`, as a failed ingest batch. */
function rolledBack(fn: () => void): void {
  expect(() =>
    store.transaction(() => {
      fn();
      throw new Error('the batch failed');
    }),
  ).toThrow('the batch failed');
  counter.discard();
}

const installs = () => store.alerts.openFor(null, 'licence.over_deployed').map((a) => (JSON.parse(a.details) as { installs: number }).installs);
const seat = (i: number) => counter.setTitles(hosts[i] ?? '', new Set([TITLE]));

describe('LicenceCounter', () => {
  it('recounts a title at once after a quiet interval, then at most once per interval, saying when it is due', () => {
    committed(() => {
      seat(0);
      seat(1);
      expect(counter.recountDirty(10_000)).toBeUndefined();
    });
    expect(installs()).toEqual([2]);
    // Within the interval: marked, not recounted; due when the interval is up.
    committed(() => {
      seat(2);
      expect(counter.recountDirty(10_400)).toBe(11_000);
    });
    expect(installs()).toEqual([2]);
    expect(counter.pending).toBe(true);
    committed(() => expect(counter.recountDirty(10_999)).toBe(11_000));
    committed(() => expect(counter.recountDirty(11_000)).toBeUndefined());
    expect(installs()).toEqual([3]);
    expect(counter.pending).toBe(false);
  });

  it('recounts every title whatever the interval after markAll, and when forced', () => {
    committed(() => {
      seat(0);
      seat(1);
      counter.recountDirty(10_000);
    });
    committed(() => {
      seat(2);
      counter.markAll();
      expect(counter.recountDirty(10_001)).toBeUndefined();
    });
    expect(installs()).toEqual([3]);
    committed(() => {
      seat(3);
      expect(counter.recountDirty(10_002, { force: true })).toBeUndefined();
    });
    expect(installs()).toEqual([4]);
  });

  it('loses neither a mark nor a recount to a rolled-back transaction', () => {
    committed(() => {
      seat(0);
      seat(1);
      counter.recountDirty(10_000);
    });
    committed(() => seat(2)); // marked, committed, not yet recounted
    // A failed batch that recounted (after the interval) and marked more: its recount is undone…
    rolledBack(() => {
      seat(3);
      counter.recountDirty(11_000);
    });
    expect(installs()).toEqual([2]);
    expect(counter.pending).toBe(true);
    // …and the title is due at once, with what the committed transaction changed (pc-3's seat went with the rollback).
    committed(() => expect(counter.recountDirty(11_001)).toBeUndefined());
    expect(installs()).toEqual([3]);
  });
});
