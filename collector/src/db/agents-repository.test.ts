import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hostFacts } from '../test-support/harness.js';
import { openStore, type Store } from './store.js';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-agents-'));
  store = openStore({ dataDir: dir, silentAfterMs: 60_000 });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const statusOf = (s: Store, hostId: string) =>
  s.db.prepare('SELECT status, last_seen_at, last_goodbye, agent_version FROM hosts WHERE id = ?').get(hostId) as Record<string, unknown>;
const nextTurn = () => new Promise((r) => setImmediate(r));

describe('connection status', () => {
  it('writes the changes of one event-loop turn together, in the order they came, in one commit', async () => {
    const a = store.hosts.create(hostFacts({ hostname: 'a' }), [], null, 1);
    const b = store.hosts.create(hostFacts({ hostname: 'b' }), [], null, 1);
    store.db.prepare("UPDATE hosts SET last_goodbye = 'shutdown'").run();
    const transactions = vi.spyOn(store.db, 'transaction');
    // a: came then went in one turn (offline, but its version and goodbye from the connect stand);
    // b: went (while offline: nothing) then came.
    store.agents.markConnected(a, '9.9.9', 100);
    store.agents.markDisconnected(a, 101);
    store.agents.markDisconnected(b, 102);
    store.agents.markConnected(b, '9.9.8', 103);
    expect(statusOf(store, a)).toMatchObject({ status: 'offline', agent_version: expect.not.stringMatching('9.9.9') });
    await nextTurn();
    expect(statusOf(store, a)).toEqual({ status: 'offline', last_seen_at: 101, last_goodbye: null, agent_version: '9.9.9' });
    expect(statusOf(store, b)).toEqual({ status: 'online', last_seen_at: 103, last_goodbye: null, agent_version: '9.9.8' });
    // One transaction (one commit, one WAL sync), not a commit per change.
    expect(transactions).toHaveBeenCalledTimes(1);
  });

  it('writes what is queued when the store closes', () => {
    const a = store.hosts.create(hostFacts({ hostname: 'a' }), [], null, 1);
    store.agents.markConnected(a, '1.2.3', 100);
    store.close();
    const reopened = openStore({ dataDir: dir, silentAfterMs: 60_000 });
    try {
      expect(statusOf(reopened, a)).toMatchObject({ status: 'online', agent_version: '1.2.3' });
    } finally {
      reopened.close();
    }
  });
});
