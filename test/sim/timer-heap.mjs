// One scheduler for every simulated agent: a binary min-heap of (time, agent, kind) in typed
// arrays, driven by a single timer armed for the earliest entry. Ten thousand agents with a
// heartbeat, an event and a reconnect each pending cost three heap slots apiece instead of thirty
// thousand Node timers. Entries are not removed when superseded: each carries the agent's
// generation for that kind, and a stale one is skipped when it comes up.

export class TimerHeap {
  /** @param {(agentIndex: number, kind: number, gen: number) => void} fire */
  constructor(fire, capacity = 1024) {
    this.fire = fire;
    this.at = new Float64Array(capacity);
    this.who = new Int32Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.gen = new Uint32Array(capacity);
    this.size = 0;
    this.timer = undefined;
    this.armedFor = Infinity;
    this.stopped = false;
  }

  push(at, who, kind, gen) {
    if (this.size === this.at.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.at[p] <= at) break;
      this.move(p, i);
      i = p;
    }
    this.at[i] = at;
    this.who[i] = who;
    this.kind[i] = kind;
    this.gen[i] = gen;
    if (at < this.armedFor) this.arm();
  }

  grow() {
    const n = this.at.length * 2;
    for (const k of ['at', 'who', 'kind', 'gen']) {
      const next = new this[k].constructor(n);
      next.set(this[k]);
      this[k] = next;
    }
  }

  move(from, to) {
    this.at[to] = this.at[from];
    this.who[to] = this.who[from];
    this.kind[to] = this.kind[from];
    this.gen[to] = this.gen[from];
  }

  pop() {
    const last = --this.size;
    const at = this.at[last];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const c = l + 1 < last && this.at[l + 1] < this.at[l] ? l + 1 : l;
      if (this.at[c] >= at) break;
      this.move(c, i);
      i = c;
    }
    if (last > 0) {
      this.at[i] = at;
      this.who[i] = this.who[last];
      this.kind[i] = this.kind[last];
      this.gen[i] = this.gen[last];
    }
  }

  arm() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    if (this.size === 0) {
      this.armedFor = Infinity;
      return;
    }
    this.armedFor = this.at[0];
    this.timer = setTimeout(() => this.run(), Math.max(0, Math.min(this.armedFor - performance.now(), 2 ** 31 - 1)));
  }

  /** Fires everything due (times are performance.now() milliseconds), at most `budget` per turn. */
  run(budget = 5000) {
    this.armedFor = Infinity;
    const now = performance.now();
    let n = 0;
    while (this.size > 0 && this.at[0] <= now && n++ < budget) {
      const who = this.who[0];
      const kind = this.kind[0];
      const gen = this.gen[0];
      this.pop();
      this.fire(who, kind, gen);
    }
    // Over budget: yield to I/O (acks, connects) before the rest.
    if (n > budget) {
      this.armedFor = now;
      this.timer = setImmediate(() => this.run());
      return;
    }
    this.arm();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearImmediate(this.timer);
  }
}
