import { agentEnvelope, type SessionState, type UsbDevice } from '@vigil/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostFacts } from '../test-support/harness.js';
import { openStore, type Store } from './store.js';

let store: Store;
let hostId: string;
beforeEach(() => {
  store = openStore({ dataDir: ':memory:', silentAfterMs: 60_000 });
  hostId = store.hosts.create(hostFacts(), [], null, 1_000);
});
afterEach(() => store.close());

const session = (idle: boolean, locked: boolean): SessionState => ({ id: '2', user: 'alice', locked, idle, remote: false });
const device = (busPath: string): UsbDevice => ({
  key: `usb:0781:5567:${busPath}`,
  vendorId: '0781',
  productId: '5567',
  serial: busPath,
  manufacturer: 'SanDisk',
  product: 'Cruzer Blade',
  deviceClass: '00',
  interfaceClasses: ['08'],
  busPath,
  removable: 'removable',
  isHub: false,
  isRootHub: false,
});
const row = () => store.db.prepare('SELECT usb, sessions, sessions_at, sessions_attention FROM host_state WHERE host_id = ?').get(hostId) as Record<string, string | number> | undefined;
const sessionsMsg = (seq: number, s: SessionState) => agentEnvelope('session.state', seq, { sessions: [s] });

describe('HostStateRepository inside a transaction', () => {
  it('writes only the last of many changes, when the transaction commits, and reads what is not written yet', () => {
    store.transaction(() => {
      store.hostState.apply(hostId, sessionsMsg(1, session(true, false)), 10);
      store.hostState.apply(hostId, agentEnvelope('usb.attached', 2, { device: device('1-1'), present: false }), 11);
      store.hostState.apply(hostId, agentEnvelope('usb.attached', 3, { device: device('1-2'), present: false }), 12);
      store.hostState.apply(hostId, agentEnvelope('usb.detached', 4, { key: device('1-1').key, busPath: '1-1' }), 13);
      expect(row()).toBeUndefined();
      const state = store.hostState.get(hostId);
      expect(state.usb).toEqual({ known: true, items: [device('1-2')], at: 13 });
      expect(state.sessions).toEqual({ known: true, items: [session(true, false)], at: 10 });
      store.hostState.apply(hostId, sessionsMsg(5, session(true, true)), 14);
      store.hostState.apply(hostId, sessionsMsg(6, session(true, false)), 15);
    });
    expect(row()).toEqual({ usb: JSON.stringify([device('1-2')]), sessions: JSON.stringify([session(true, false)]), sessions_at: 15, sessions_attention: 1 });
    store.transaction(() => store.hostState.apply(hostId, sessionsMsg(7, session(true, true)), 16));
    expect(row()).toMatchObject({ sessions_at: 16, sessions_attention: 0 });
    expect(store.hostState.get(hostId).usb).toEqual({ known: true, items: [device('1-2')], at: 13 });
  });

  it('drops the deferred writes of a rolled-back transaction, and takes back those of a failed savepoint only', () => {
    expect(() =>
      store.transaction(() => {
        store.hostState.apply(hostId, sessionsMsg(1, session(true, false)), 10);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(row()).toBeUndefined();
    expect(store.hostState.get(hostId).sessions).toBeNull();

    store.transaction(() => {
      store.hostState.apply(hostId, sessionsMsg(2, session(false, false)), 20);
      expect(() =>
        store.transaction(() => {
          store.hostState.apply(hostId, sessionsMsg(3, session(true, false)), 21);
          throw new Error('inner');
        }),
      ).toThrow('inner');
      expect(store.hostState.get(hostId).sessions?.at).toBe(20);
      const mark = store.hostState.mark();
      store.hostState.apply(hostId, sessionsMsg(4, session(true, true)), 22);
      store.hostState.rollbackTo(mark);
    });
    expect(row()).toMatchObject({ sessions: JSON.stringify([session(false, false)]), sessions_at: 20, sessions_attention: 0 });
  });

  it('writes at once outside a transaction', () => {
    store.hostState.apply(hostId, sessionsMsg(1, session(true, false)), 10);
    expect(row()).toMatchObject({ sessions_at: 10, sessions_attention: 1 });
  });

  it('keeps the software diffs of a batch, written once, and takes back those of a failed savepoint', () => {
    const pkg = (name: string, version: string) => ({ name, version, source: 'dpkg' as const, publisher: 'Debian', arch: 'amd64' });
    const classifier = {
      version: 1,
      classify: (i: { source: string; name: string }) => ({ status: ['git', 'zsh'].includes(i.name) ? 'unapproved' : 'approved', subject: `${i.source}:${i.name}` }),
    };
    const snapshot = agentEnvelope('snapshot', 1, { host: hostFacts(), software: [pkg('bash', '5.1'), pkg('vim', '9.0')] });
    store.transaction(() => store.hostState.apply(hostId, snapshot, 10, classifier));
    store.transaction(() => {
      store.hostState.apply(hostId, agentEnvelope('software.changed', 2, { installed: [pkg('git', '2.39')], removed: [], upgraded: [{ from: pkg('bash', '5.1'), to: pkg('bash', '5.2') }] }), 11, classifier);
      const mark = store.hostState.mark();
      store.db.exec('SAVEPOINT t');
      store.hostState.apply(hostId, agentEnvelope('software.changed', 3, { installed: [pkg('zsh', '5.9')], removed: [pkg('vim', '9.0')], upgraded: [{ from: pkg('git', '2.39'), to: pkg('git', '2.40') }] }), 12, classifier);
      store.db.exec('ROLLBACK TO t');
      store.db.exec('RELEASE t');
      store.hostState.rollbackTo(mark);
      store.hostState.apply(hostId, agentEnvelope('software.changed', 4, { installed: [pkg('curl', '7.88')], removed: [], upgraded: [] }), 13, classifier);
    });
    expect(store.hostState.softwareItems(hostId)).toEqual([pkg('bash', '5.2'), pkg('curl', '7.88'), pkg('git', '2.39'), pkg('vim', '9.0')]);
    expect(store.hostState.softwareOfSubject(hostId, 'dpkg:zsh')).toEqual([]);
    expect(store.hostState.softwareOfSubject(hostId, 'dpkg:git')).toEqual([{ item: pkg('git', '2.39'), status: 'unapproved' }]);
    expect(store.hostState.softwareOfSubject(hostId, 'dpkg:curl')).toEqual([]); // approved: can hold no finding
  });
});
