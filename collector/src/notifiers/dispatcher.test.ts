import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { CreateNotificationTargetRequest, type NotificationTarget } from '@vigil/shared';
import { openStore, type Store } from '../db/store.js';
import { DEFAULT_RETRY, Dispatcher, retryDelay, type DispatcherOptions, type Timers } from './dispatcher.js';
import { alertNotice } from './test-support/notices.js';
import type { OutgoingDelivery, Transport } from './types.js';

/** A clock and timers the test moves by hand. */
class ManualTime implements Timers {
  t = Date.parse('2025-03-04T10:00:00Z');
  private seq = 0;
  private pending = new Map<number, { at: number; fn: () => void }>();
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.pending.delete(h as number);
  };
  /** Let promise callbacks and I/O run. */
  async settle() {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }
  /** Move time forward, firing timers in order. */
  async advance(ms: number) {
    const end = this.t + ms;
    await this.settle();
    for (;;) {
      const next = [...this.pending.entries()].filter(([, v]) => v.at <= end).sort((x, y) => x[1].at - y[1].at || x[0] - y[0])[0];
      if (!next) break;
      this.pending.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await this.settle();
    }
    this.t = end;
  }
}

/** A transport whose answers the test scripts per call. */
class ScriptedTransport implements Transport {
  calls: { id: number; target: string; attempts: number; signal: AbortSignal }[] = [];
  closed = false;
  constructor(private readonly answer: (d: OutgoingDelivery, signal: AbortSignal, call: number) => Promise<void>) {}
  send(d: OutgoingDelivery, signal: AbortSignal): Promise<void> {
    this.calls.push({ id: d.id, target: d.target.name, attempts: d.attempts, signal });
    return this.answer(d, signal, this.calls.length);
  }
  close() {
    this.closed = true;
  }
}

const never = () => new Promise<void>(() => undefined);

let store: Store;
let time: ManualTime;
let dispatcher: Dispatcher | undefined;
beforeEach(() => {
  store = openStore({ dataDir: ':memory:', silentAfterMs: 60_000 });
  time = new ManualTime();
});
afterEach(async () => {
  // stop() waits for in-flight sends on the (manual) timers: move time along while it does.
  const stopped = dispatcher?.stop();
  await time.advance(10_000);
  await stopped;
  dispatcher = undefined;
  store.close();
});

const hook = (name: string): NotificationTarget =>
  store.notifications.createTarget(CreateNotificationTargetRequest.parse({ name, kind: 'webhook', config: { url: `https://${name}.example/` } }), 'admin', time.t);

function start(transport: Transport, over: Partial<DispatcherOptions> = {}) {
  dispatcher = new Dispatcher({
    queue: store.notifications,
    transports: { webhook: transport, slack: transport, syslog: transport },
    log: pino({ level: 'silent' }),
    now: time.now,
    timers: time,
    random: () => 0.5,
    ...over,
  });
  dispatcher.start();
  return dispatcher;
}

const delivery = (id: number) => store.notifications.getDelivery(id);
const onlyDelivery = () => {
  const d = store.notifications.listDeliveries({ limit: 10 }).items;
  if (d.length !== 1 || !d[0]) throw new Error(`expected one delivery, got ${d.length}`);
  return d[0];
};

describe('retryDelay', () => {
  it('doubles from 5 s and stops at 1 h, with ±20 % jitter that never passes the cap', () => {
    const mid = (n: number) => retryDelay(n, DEFAULT_RETRY, () => 0.5);
    expect([1, 2, 3, 4, 5].map(mid)).toEqual([5_000, 10_000, 20_000, 40_000, 80_000]);
    expect(mid(10)).toBe(2_560_000);
    expect(mid(11)).toBe(3_600_000);
    expect(mid(60)).toBe(3_600_000);
    expect(retryDelay(1, DEFAULT_RETRY, () => 0)).toBe(4_000);
    expect(retryDelay(1, DEFAULT_RETRY, () => 0.999_999)).toBe(6_000);
    expect(retryDelay(30, DEFAULT_RETRY, () => 0.999_999)).toBe(3_600_000);
    expect(retryDelay(30, DEFAULT_RETRY, () => 0)).toBe(2_880_000);
  });
});

describe('Dispatcher', () => {
  it('retries with backoff until the receiver takes it', async () => {
    hook('a');
    const t = new ScriptedTransport(async (_d, _s, call) => {
      if (call <= 2) throw new Error(`HTTP 500: try ${call}`);
    });
    start(t);
    store.notifications.enqueueAlert(alertNotice(), time.t);
    dispatcher?.kick();
    await time.advance(0);
    expect(t.calls).toHaveLength(1);
    expect(onlyDelivery()).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500: try 1' });
    await time.advance(4_999);
    expect(t.calls).toHaveLength(1);
    await time.advance(1);
    expect(t.calls).toHaveLength(2);
    await time.advance(10_000);
    expect(t.calls.map((c) => c.attempts)).toEqual([1, 2, 3]);
    expect(onlyDelivery()).toMatchObject({ status: 'delivered', attempts: 3, lastError: 'HTTP 500: try 2', nextAttemptAt: null });
  });

  it('gives up after the attempt limit and keeps the last error', async () => {
    hook('a');
    const t = new ScriptedTransport(async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
    });
    start(t, { retry: { maxAttempts: 4 } });
    store.notifications.enqueueAlert(alertNotice(), time.t);
    await time.advance(24 * 3_600_000);
    expect(t.calls).toHaveLength(4);
    expect(onlyDelivery()).toMatchObject({ status: 'failed', attempts: 4, lastError: 'connect ECONNREFUSED 127.0.0.1:9' });
  });

  it('keeps a hanging target to its own slots: other targets are still served', async () => {
    hook('slow');
    hook('fast');
    const t = new ScriptedTransport((d) => (d.target.name === 'slow' ? never() : Promise.resolve()));
    start(t, { tuning: { perTargetInflight: 2, sendTimeoutMs: 600_000, leaseMs: 700_000 } });
    for (let i = 0; i < 5; i++) store.notifications.enqueueAlert(alertNotice({ cursor: String(i + 1) }), time.t);
    dispatcher?.kick();
    await time.advance(1_000);
    expect(t.calls.filter((c) => c.target === 'slow')).toHaveLength(2);
    expect(t.calls.filter((c) => c.target === 'fast')).toHaveLength(5);
    const fast = store.notifications.listTargets().find((x) => x.name === 'fast');
    expect(fast?.deliveries).toEqual({ pending: 0, delivered: 5, failed: 0 });
    expect(dispatcher?.inflightCount).toBe(2);
  });

  it('aborts a send that outlives its timeout and retries it', async () => {
    hook('a');
    const t = new ScriptedTransport((_d, _signal, call) => (call === 1 ? never() : Promise.resolve()));
    start(t, { tuning: { sendTimeoutMs: 3_000 } });
    store.notifications.enqueueAlert(alertNotice(), time.t);
    await time.advance(2_999);
    expect(onlyDelivery()).toMatchObject({ status: 'pending', attempts: 1, lastError: null });
    await time.advance(1);
    expect(t.calls[0]?.signal.aborted).toBe(true);
    expect(onlyDelivery()).toMatchObject({ status: 'pending', lastError: 'timed out after 3000 ms' });
    await time.advance(5_000);
    expect(onlyDelivery()).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('stop() lets sends finish briefly, then aborts them; they stay pending and nothing is written after', async () => {
    hook('a');
    hook('b');
    let finishA: () => void = () => undefined;
    const t = new ScriptedTransport((d) => (d.target.name === 'a' ? new Promise<void>((r) => (finishA = r)) : never()));
    const disp = start(t, { tuning: { stopGraceMs: 500 } });
    store.notifications.enqueueAlert(alertNotice(), time.t);
    await time.advance(0);
    expect(disp.inflightCount).toBe(2);
    const stopped = disp.stop();
    finishA();
    await time.advance(500);
    await time.advance(1_000);
    await stopped;
    expect(t.closed).toBe(true);
    const byTarget = Object.fromEntries(store.notifications.listDeliveries({ limit: 5 }).items.map((d) => [d.targetName, d]));
    expect(byTarget.a).toMatchObject({ status: 'delivered' });
    expect(byTarget.b).toMatchObject({ status: 'pending', attempts: 1, lastError: 'aborted: the collector is shutting down' });
    expect(t.calls.find((c) => c.target === 'b')?.signal.aborted).toBe(true);
    // A stopped dispatcher ignores kicks and never touches the (closed) database.
    store.close();
    disp.kick();
    await time.advance(60_000);
  });

  it('survives a queue that throws, and tries again later', async () => {
    hook('a');
    const t = new ScriptedTransport(async () => undefined);
    let broken = true;
    const queue = {
      claimDue: (now: number, opts: Parameters<Store['notifications']['claimDue']>[1]) => {
        if (broken) throw new Error('SQLITE_BUSY: database is locked');
        return store.notifications.claimDue(now, opts);
      },
      markDelivered: (id: number, now: number) => store.notifications.markDelivered(id, now),
      scheduleRetry: (id: number, e: string, at: number) => store.notifications.scheduleRetry(id, e, at),
      markFailed: (id: number, e: string) => store.notifications.markFailed(id, e),
    };
    start(t, { queue, tuning: { errorBackoffMs: 5_000 } });
    store.notifications.enqueueAlert(alertNotice(), time.t);
    await time.advance(0);
    expect(t.calls).toHaveLength(0);
    broken = false;
    await time.advance(5_000);
    expect(onlyDelivery().status).toBe('delivered');
  });

  it('picks up what was left due before a restart, and polls without kicks', async () => {
    hook('a');
    store.notifications.enqueueAlert(alertNotice(), time.t);
    const t = new ScriptedTransport(async () => undefined);
    start(t, { tuning: { idlePollMs: 30_000 } });
    await time.advance(0);
    expect(t.calls).toHaveLength(1);
    // Queued without a kick (say by another code path): found by the next poll.
    store.notifications.enqueueAlert(alertNotice({ cursor: '18' }), time.t);
    await time.advance(29_999);
    expect(t.calls).toHaveLength(1);
    await time.advance(1);
    expect(t.calls).toHaveLength(2);
    expect(delivery(2)?.status).toBe('delivered');
  });
});
