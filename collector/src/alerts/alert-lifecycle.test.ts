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

describe('AlertLifecycle on an alert that stays open', () => {
  it('a bump and a change of details keep its status and acknowledgement, and the index still finds it', () => {
    store.transaction(() => lifecycle.reconcile(scope(), [finding('usb:a')], { now: 10, monitorOnly: false }));
    const [opened] = store.alerts.openForSubject(hostId, RULE, 'usb:a');
    store.transaction(() => lifecycle.acknowledge(opened?.id ?? '', 'analyst', 'looking', 20));
    const again = new Set([`${RULE}\u0000usb:a`]);
    const changed: Finding = { ...finding('usb:a'), severity: 'critical', details: { present: false } };
    store.transaction(() => lifecycle.reconcile(scope(['usb:a']), [changed], { now: 30, monitorOnly: false, occurrences: again }));
    const [after] = store.alerts.openForSubject(hostId, RULE, 'usb:a');
    expect(after).toMatchObject({
      id: opened?.id,
      status: 'acknowledged',
      acknowledged_by: 'analyst',
      acknowledged_at: 20,
      note: 'looking',
      severity: 'critical',
      count: 2,
      details: '{"present":false}',
      last_seen_at: 30,
      updated_at: 30,
      first_seen_at: 10,
    });
    expect(store.alerts.historyOf(after?.id ?? '').map((h) => `${h.action}:${h.status}:${h.count}`)).toEqual(['opened:open:1', 'acknowledged:acknowledged:1', 'escalated:acknowledged:2']);
    expect(store.alerts.countOpenFor(hostId, RULE)).toBe(1);
  });
});
