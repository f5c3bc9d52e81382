import type { RuleId } from '@vigil/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../db/store.js';
import type { Finding } from '../policy/finding.js';
import { hostFacts } from '../test-support/harness.js';
import { AlertLifecycle } from './alert-lifecycle.js';

let store: Store;
let lifecycle: AlertLifecycle;
let hostId: string;
beforeEach(() => {
  store = openStore({ dataDir: ':memory:', silentAfterMs: 60_000 });
  lifecycle = new AlertLifecycle(store.alerts);
  lifecycle.resetOpenHint();
  hostId = store.hosts.create(hostFacts(), [], null, 1_000);
});
afterEach(() => store.close());

const RULE: RuleId = 'usb.unauthorised';
const finding = (subject: string): Finding => ({ rule: RULE, subject, severity: 'high', details: {} });
const scope = (subjects?: string[]) => ({ hostId, hostname: 'ws', groups: [], rules: [RULE], ...(subjects ? { subjects: { [RULE]: new Set(subjects) } } : {}) });

/** The hint must never miss an open alert (it may name closed ones). */
function expectHintCoversStore(): void {
  const open = store.alerts.openFor(hostId, RULE).map((a) => a.subject);
  for (const subject of open) expect(lifecycle.mayHaveOpenSubject(hostId, RULE, subject)).toBe(true);
  expect(lifecycle.openBound(hostId, RULE)).toBeGreaterThanOrEqual(open.length);
}

describe('AlertLifecycle open-alert hint', () => {
  it('names the subjects with an open alert as alerts open and close', () => {
    expect(lifecycle.mayHaveOpenSubject(hostId, RULE, 'usb:a')).toBe(false);
    store.transaction(() => lifecycle.reconcile(scope(), [finding('usb:a'), finding('usb:b')], { now: 10, monitorOnly: false }));
    expect(lifecycle.mayHaveOpenSubject(hostId, RULE, 'usb:a')).toBe(true);
    expect(lifecycle.mayHaveOpenSubject(hostId, RULE, 'usb:b')).toBe(true);
    expect(lifecycle.mayHaveOpenSubject(hostId, RULE, 'usb:c')).toBe(false);
    expect(lifecycle.openBound(hostId, RULE)).toBe(2);
    expectHintCoversStore();

    // Judging usb:a alone, gone: its alert closes; usb:b's stays.
    store.transaction(() => lifecycle.reconcile(scope(['usb:a']), [], { now: 20, monitorOnly: false }));
    expect(lifecycle.mayHaveOpenSubject(hostId, RULE, 'usb:a')).toBe(false);
    expect(lifecycle.mayHaveOpenSubject(hostId, RULE, 'usb:b')).toBe(true);
    expectHintCoversStore();

    // A person resolves usb:b's alert.
    const b = store.alerts.openForSubject(hostId, RULE, 'usb:b')[0];
    store.transaction(() => lifecycle.resolve(b?.id ?? '', 'analyst', 'removed', null, 30));
    expect(lifecycle.mayHaveOpenSubject(hostId, RULE, 'usb:b')).toBe(false);
    expect(lifecycle.openBound(hostId, RULE)).toBe(0);
    expectHintCoversStore();

    // The breach again: a new alert.
    store.transaction(() => lifecycle.reconcile(scope(['usb:b']), [finding('usb:b')], { now: 40, monitorOnly: false }));
    expect(lifecycle.mayHaveOpenSubject(hostId, RULE, 'usb:b')).toBe(true);
    expectHintCoversStore();
  });

  it('is rebuilt from the store after a rollback', () => {
    store.transaction(() => lifecycle.reconcile(scope(), [finding('usb:a')], { now: 10, monitorOnly: false }));
    expect(() =>
      store.transaction(() => {
        lifecycle.reconcile(scope(), [finding('usb:b')], { now: 20, monitorOnly: false }); // closes usb:a, opens usb:b
        throw new Error('boom');
      }),
    ).toThrow('boom');
    lifecycle.resetOpenHint();
    expect(lifecycle.mayHaveOpenSubject(hostId, RULE, 'usb:a')).toBe(true);
    expect(lifecycle.mayHaveOpenSubject(hostId, RULE, 'usb:b')).toBe(false);
    expectHintCoversStore();
  });
});
