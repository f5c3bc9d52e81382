// N simulated agents in one process, each enrolled as its own host and speaking the real agent
// protocol to a collector on loopback: hello → config → snapshot, heartbeats with counters at the
// configured interval, events from the seeded schedule, a window of unacknowledged messages resent
// after a reconnect, reconnects with exponential backoff and full jitter, collect-now answered with
// a snapshot, goodbye on stop. See README.md in this folder.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { decodeAgentFrame, decodeCollectorFrame, EnrolRequest, PROTOCOL_VERSION, uuidv7 } from '@vigil/shared';
import { EventPlan } from './events.mjs';
import { AGENT_VERSION, Fleet } from './fleet.mjs';
import { hash32, mix32, Rng } from './prng.mjs';
import { defaultStateFile, loadState, saveState } from './state-file.mjs';
import { bump, LatencyHistogram, newStats } from './stats.mjs';
import { loadTemplates } from './templates.mjs';
import { TimerHeap } from './timer-heap.mjs';

const EVENT = 1;
const HEARTBEAT = 2;
const RECONNECT = 3;

/** Close codes after which reconnecting at once would only repeat the refusal (shared CLOSE_CODES). */
const FATAL_CLOSE = new Set([4400, 4401]);
/** Messages an overflowing outbox may drop, lowest value first (shared DROPPABLE_TYPES). */
const DROPPABLE = new Set(['heartbeat', 'session.state', 'screenlock.state']);
const MAX_BUFFERED = 1024 * 1024;

export const LIMITS = { agents: 100_000, durationSeconds: 24 * 3600 };

/** Behaviour presets; explicit options win. */
export const PROFILES = {
  office: { eventsPerAgentPerHour: 6 },
  quiet: { eventsPerAgentPerHour: 0 },
  busy: { eventsPerAgentPerHour: 60 },
};

/** Refuses anything but a loopback collector; returns the URL normalised (no trailing slash, localhost → 127.0.0.1). */
export function loopbackUrl(raw) {
  let u;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`--collector-url ${JSON.stringify(raw)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--collector-url must be http:// or https:// (got ${u.protocol})`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') u.hostname = '127.0.0.1';
  else if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) && host !== '::1') {
    throw new Error(`--collector-url ${raw}: the simulator only talks to a collector on loopback (127.0.0.0/8, ::1 or localhost), not ${host}`);
  }
  return u.origin;
}

/** 127.0.0.2, 127.0.0.3, … to spread connections over (each source address has its own ephemeral ports). */
export function sourceAddresses(collectorUrl, count) {
  if (!count || new URL(collectorUrl).hostname.includes(':') || new URL(collectorUrl).hostname === '[::1]') return [undefined];
  return Array.from({ length: count }, (_, i) => `127.0.0.${2 + i}`);
}

class SimAgent {
  /** `index`: the agent's place in the whole fleet (its host, its state-file key); `slot`: in this process. */
  constructor(sim, index, slot, host) {
    this.sim = sim;
    this.index = index;
    this.slot = slot;
    this.host = host;
    this.creds = null;
    this.localAddress = undefined;
    this.ws = null;
    this.ready = false;
    this.everReady = false;
    this.gated = false;
    this.stopped = false;
    this.nextSeq = 0;
    this.ackedSeq = 0;
    this.sentUpTo = 0;
    /** Unacknowledged messages in seq order: {seq, type, id, ts, line, sentAt, sends, gate}. */
    this.outbox = [];
    this.sendIdx = 0;
    this.waitingForGate = false;
    this.attempts = 0;
    this.enrolAttempts = 0;
    this.hbGen = 0;
    this.reconnectGen = 0;
    this.heartbeatSeconds = 30;
    this.idleThresholdSeconds = 900;
    this.lastProgressAt = 0;
    this.connectStartedAt = 0;
    this.stormAt = 0;
    this.produced = 0;
    this.sent = 0;
    this.acknowledged = 0;
    this.rejected = 0;
    this.dropped = 0;
  }

  // --- outbox

  /** Queues a message; `body` null means a snapshot, whose (large) JSON is built when it is sent. */
  append(type, body, now = Date.now()) {
    const seq = ++this.nextSeq;
    const id = uuidv7(now);
    const line = body === null ? null : JSON.stringify({ v: PROTOCOL_VERSION, type, id, seq, ts: now, body });
    this.outbox.push({ seq, type, id, ts: now, line, sentAt: 0, sends: 0, gate: false });
    this.produced++;
    bump(this.sim.stats.produced, type);
    if (this.outbox.length > this.sim.o.maxOutbox) this.dropOne();
    this.pump();
  }

  dropOne() {
    const i = this.outbox.findIndex((m, k) => k >= this.sendIdx && DROPPABLE.has(m.type));
    if (i < 0) return;
    this.outbox.splice(i, 1);
    this.dropped++;
    this.sim.stats.dropped++;
  }

  lineOf(m) {
    if (m.line !== null) return m.line;
    // A snapshot is rebuilt from the host's state at each send (the id stays, so the collector
    // stores it once); keeping 10,000 inventories' JSON in memory would cost gigabytes.
    return `{"v":${PROTOCOL_VERSION},"type":"snapshot","id":"${m.id}","seq":${m.seq},"ts":${m.ts},"body":${this.host.snapshotJson(m.ts)}}`;
  }

  pump() {
    const ws = this.ws;
    if (!this.ready || !ws || ws.readyState !== WebSocket.OPEN) return;
    const sim = this.sim;
    while (this.sendIdx < this.outbox.length && this.sentUpTo - this.ackedSeq < sim.o.window && ws.bufferedAmount < MAX_BUFFERED) {
      const m = this.outbox[this.sendIdx];
      if (m.type === 'snapshot' && !m.gate) {
        if (!sim.takeSnapshotSlot(this)) return;
        m.gate = true;
      }
      const line = this.lineOf(m);
      if (sim.o.selfCheck) sim.check(line, m.type);
      if (this.sentUpTo === this.ackedSeq) this.lastProgressAt = performance.now();
      ws.send(line);
      m.sentAt = performance.now();
      if (m.sends++ > 0) sim.stats.resent++;
      this.sendIdx++;
      this.sentUpTo = m.seq;
      this.sent++;
      bump(sim.stats.sent, m.type);
    }
    if (ws.bufferedAmount >= MAX_BUFFERED) setTimeout(() => this.pump(), 50).unref();
  }

  onAck(body) {
    const now = performance.now();
    const sim = this.sim;
    let n = 0;
    while (n < this.outbox.length && this.outbox[n].seq <= body.upToSeq) {
      const m = this.outbox[n++];
      if (m.sends > 0) {
        if (m.type === 'snapshot') {
          sim.stats.snapshotAckLatency.record(now - m.sentAt);
          sim.stats.windowSnapshotAckLatency.record(now - m.sentAt);
        } else {
          sim.stats.ackLatency.record(now - m.sentAt);
          sim.stats.windowAckLatency.record(now - m.sentAt);
        }
      }
      if (m.gate) sim.releaseSnapshotSlot();
    }
    this.outbox.splice(0, n);
    this.sendIdx = Math.max(0, this.sendIdx - n);
    this.acknowledged += n;
    sim.stats.acked += n;
    if (body.rejected?.length) {
      this.rejected += body.rejected.length;
      sim.stats.rejected += body.rejected.length;
      for (const r of body.rejected) bump(sim.stats.rejectedByCode, r.code);
    }
    this.ackedSeq = Math.max(this.ackedSeq, body.upToSeq);
    if (this.sentUpTo < this.ackedSeq) this.sentUpTo = this.ackedSeq;
    this.lastProgressAt = now;
    this.pump();
  }

  // --- connection

  connect() {
    if (this.stopped || this.ws || !this.creds) return;
    const sim = this.sim;
    this.connectStartedAt = performance.now();
    sim.stats.connects++;
    if (this.everReady) sim.stats.reconnects++;
    const ws = new WebSocket(sim.wsUrl, {
      headers: { authorization: `Bearer ${this.creds.agentToken}` },
      perMessageDeflate: false,
      maxPayload: 1024 * 1024,
      handshakeTimeout: 30_000, // as the agent (agent/src/transport/collector-link.ts)
      ...(this.localAddress ? { localAddress: this.localAddress } : {}),
    });
    this.ws = ws;
    let fatal = false;
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c) => text.length < 4096 && (text += c));
      res.on('end', () => {
        let code = `HTTP ${res.statusCode}`;
        try {
          code = JSON.parse(text).error.code ?? code;
        } catch {
          // not our JSON: keep the status
        }
        bump(sim.stats.refused, code);
        if (code === 'VIGIL_ERR_TOKEN_INVALID') {
          // The collector does not know this token (a new database at the same URL): enrol again.
          this.creds = null;
          sim.stats.reEnrolled++;
          sim.queueEnrol(this);
        } else if (code === 'VIGIL_ERR_TOKEN_REVOKED') {
          this.stopped = true;
        }
        fatal = res.statusCode === 401 || res.statusCode === 403;
        ws.terminate();
      });
    });
    ws.on('open', () => {
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'hello', id: uuidv7(), seq: 0, ts: Date.now(), body: { protocolVersion: PROTOCOL_VERSION, agentVersion: AGENT_VERSION, agentId: this.creds.agentId, hostId: this.creds.hostId, lastSeq: this.nextSeq } }));
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString('utf8');
      let f;
      if (sim.o.selfCheck) {
        const d = decodeCollectorFrame(text);
        sim.stats.selfCheck.checked++;
        if (!d.ok) {
          sim.selfCheckFailure({ direction: 'collector → agent', code: d.code, reason: d.reason });
          return;
        }
        f = d.envelope;
      } else {
        try {
          f = JSON.parse(text);
        } catch {
          bump(sim.stats.errorFrames, 'unreadable frame from the collector');
          return;
        }
      }
      switch (f.type) {
        case 'config':
          this.onConfig(f.body);
          break;
        case 'ack':
          this.onAck(f.body);
          break;
        case 'command':
          sim.stats.commands++;
          if (f.body.kind === 'collect-now') this.append('snapshot', null);
          this.append('command.result', { commandId: f.body.id, kind: f.body.kind, status: 'ok' });
          break;
        case 'error':
          bump(sim.stats.errorFrames, f.body.code);
          break;
      }
    });
    ws.on('error', (err) => bump(sim.stats.socketErrors, err.code ?? err.message.slice(0, 60)));
    ws.on('close', (code) => this.onClose(ws, code, fatal));
  }

  onConfig(c) {
    const sim = this.sim;
    this.heartbeatSeconds = c.heartbeatSeconds;
    this.idleThresholdSeconds = c.idleThresholdSeconds;
    if (!this.ready) {
      this.ready = true;
      this.attempts = 0;
      this.lastProgressAt = performance.now();
      if (this.gated) sim.releaseConnectSlot(this);
      sim.onReady(this);
    }
    // Like the agent: a heartbeat every heartbeatSeconds from the config on.
    sim.heap.push(performance.now() + c.heartbeatSeconds * 1000, this.slot, HEARTBEAT, ++this.hbGen);
    this.pump();
  }

  onClose(ws, code, fatal) {
    if (this.ws !== ws) return;
    const sim = this.sim;
    const wasReady = this.ready;
    this.ws = null;
    this.ready = false;
    this.hbGen++;
    if (this.gated) sim.releaseConnectSlot(this);
    for (let k = 0; k < this.sendIdx; k++) {
      const m = this.outbox[k];
      if (m.gate) {
        m.gate = false;
        sim.releaseSnapshotSlot();
      }
    }
    // Resend from the last ack, as the agent's link does.
    this.sendIdx = 0;
    this.sentUpTo = this.ackedSeq;
    if (this.waitingForGate) sim.dropSnapshotWaiter(this);
    if (wasReady) sim.onNotReady(this);
    sim.stats.disconnects++;
    bump(sim.stats.closeCodes, code);
    if (this.stopped || sim.stopping) return;
    if (!this.creds) return; // re-enrolling
    const delay = fatal || FATAL_CLOSE.has(code) ? sim.o.reconnectMaxSeconds * 1000 : this.backoff();
    sim.heap.push(performance.now() + delay, this.slot, RECONNECT, ++this.reconnectGen);
  }

  /** Exponential backoff with full jitter, as agent/src/transport/backoff.ts (base 500 ms). */
  backoff() {
    const cap = Math.min(this.sim.o.reconnectMaxSeconds * 1000, 500 * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return Math.max(250, Math.floor(this.sim.jitter.next() * cap));
  }

  heartbeat() {
    if (!this.ready) return;
    this.append('heartbeat', {
      counters: { produced: this.produced, sent: this.sent, acknowledged: this.acknowledged, rejected: this.rejected, dropped: this.dropped },
      droppedByType: this.dropped ? { heartbeat: this.dropped } : {},
      outbox: { pending: this.outbox.length, bytes: this.outbox.length * 400 },
      uptimeSeconds: Math.round((performance.now() - this.sim.startedPerf) / 1000),
      rssBytes: 48_000_000 + (this.host.seed % 24_000_000),
    });
    this.sim.heap.push(performance.now() + this.heartbeatSeconds * 1000, this.slot, HEARTBEAT, ++this.hbGen);
  }
}

/**
 * Starts a simulation. Resolves once the shared data is loaded and enrolment has begun; `ready`
 * settles when every agent has connected once (or the run has failed).
 *
 * @param {object} o
 * @param {number} o.agents agents in this process
 * @param {number} [o.firstIndex] the fleet index of this process's first agent (a shard of a
 *   fleet spread over several processes runs agents firstIndex … firstIndex + agents − 1; each is
 *   derived from the seed and its fleet index, so the fleet is the same however it is split)
 * @param {string} o.collectorUrl loopback only
 * @param {string|number} o.seed
 * @param {string} o.enrolSecret
 * @param {string} [o.stateFile]
 * @param {{saved: Map<number, object>, save: (agents: Map<number, object>) => void}} [o.state]
 *   credentials kept by someone else (the parent of a sharded run) instead of `stateFile`
 * @param {number} [o.eventsPerAgentPerHour]
 * @param {number} [o.sourceAddresses] spread connections over 127.0.0.2…
 * @param {number} [o.window] unacknowledged messages per agent
 * @param {boolean} [o.selfCheck] validate every frame built and received with the shared schemas
 * @param {(line: string) => void} [o.onProgress]
 */
export async function startSimulation(opts) {
  const o = {
    profile: 'office',
    sourceAddresses: 8,
    window: 100,
    maxOutbox: 1000,
    enrolConcurrency: 64,
    connectConcurrency: 1024,
    maxSnapshotsInFlight: 128,
    reconnectMaxSeconds: 30,
    stopGraceSeconds: 5,
    progressSeconds: 5,
    selfCheck: false,
    templates: undefined,
    dpkgStatus: undefined,
    firstIndex: 0,
    ...opts,
  };
  o.eventsPerAgentPerHour ??= PROFILES[o.profile]?.eventsPerAgentPerHour ?? 6;
  if (!Number.isInteger(o.agents) || o.agents < 1 || o.agents > LIMITS.agents) throw new Error(`agents must be 1…${LIMITS.agents} (got ${o.agents})`);
  if (!Number.isInteger(o.firstIndex) || o.firstIndex < 0 || o.firstIndex + o.agents > LIMITS.agents) throw new Error(`firstIndex + agents must be at most ${LIMITS.agents} (got ${o.firstIndex} + ${o.agents})`);
  if (!o.enrolSecret) throw new Error('an enrolment secret is required (--enrol-secret or VIGIL_ENROL_SECRET)');
  const collectorUrl = loopbackUrl(o.collectorUrl);
  const stateFile = o.state ? null : (o.stateFile ?? defaultStateFile(o.seed, collectorUrl));
  const rss0 = process.memoryUsage().rss;

  const data = loadTemplates(o.dpkgStatus ? { dpkgStatus: o.dpkgStatus } : {});
  const templates = o.templates ? data.templates.filter((t) => o.templates.includes(t.id)) : data.templates;
  if (templates.length === 0) throw new Error(`--templates: none of ${o.templates.join(', ')} is a template (${data.templates.map((t) => t.id).join(', ')})`);
  const fleet = new Fleet({ seed: o.seed, templates, usb: data.usb });
  const plan = new EventPlan(o);
  globalThis.gc?.();
  const rssTemplates = process.memoryUsage().rss;

  // Is anybody there? A clear message beats ten thousand ECONNREFUSED.
  try {
    const r = await fetch(`${collectorUrl}/healthz`, { signal: AbortSignal.timeout(5000) });
    if (!r.ok) throw new Error(`GET /healthz answered ${r.status}`);
  } catch (err) {
    const why = err.cause?.code ?? err.cause?.errors?.[0]?.code ?? err.cause?.message ?? err.message;
    throw new Error(`no collector at ${collectorUrl}: ${why}`, { cause: err });
  }

  const saved = o.state ? o.state.saved : loadState(stateFile, { seed: o.seed, collectorUrl });
  const addresses = sourceAddresses(collectorUrl, o.sourceAddresses);
  let failure;
  let resolveReady;
  let rejectReady;
  const ready = new Promise((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => {});

  const sim = {
    o,
    stats: newStats(),
    wsUrl: `${collectorUrl.replace(/^http/, 'ws')}/agent/v1`,
    // Runtime jitter only (never the fleet or its schedule): each shard its own stream.
    jitter: new Rng(mix32(fleet.seed, hash32(o.firstIndex ? `jitter:${o.firstIndex}` : 'jitter'))),
    startedPerf: performance.now(),
    startedWall: Date.now(),
    stopping: false,
    readyCount: 0,
    everReadyCount: 0,
    settled: 0,
    snapshotsInFlight: 0,
    snapshotWaiters: [],
    connectsInFlight: 0,
    connectQueue: [],
    connectHead: 0,
    enrolQueue: [],
    enrolsInFlight: 0,
    allEnrolledAt: null,
    allConnectedAt: null,
    storm: null,
    heap: null,

    takeSnapshotSlot(agent) {
      if (this.snapshotsInFlight < o.maxSnapshotsInFlight) {
        this.snapshotsInFlight++;
        return true;
      }
      if (!agent.waitingForGate) {
        agent.waitingForGate = true;
        this.snapshotWaiters.push(agent);
      }
      return false;
    },
    releaseSnapshotSlot() {
      this.snapshotsInFlight--;
      while (this.snapshotWaiters.length && this.snapshotsInFlight < o.maxSnapshotsInFlight) {
        const a = this.snapshotWaiters.shift();
        if (!a.waitingForGate) continue;
        a.waitingForGate = false;
        a.pump();
      }
    },
    dropSnapshotWaiter(agent) {
      agent.waitingForGate = false;
    },

    queueConnect(agent) {
      // Every connection attempt waits for one of `connectConcurrency` handshake slots (reconnects
      // when their agent's backoff is up, as the agent does). N machines send their N request heads
      // as soon as each one's TCP connection is up; N agents on one thread cannot: in a reconnect
      // storm of 50,000 agents, unpaced, this process took more than the collector's 10 s head
      // timeout to write some heads, and the collector rightly dropped them (every ECONNRESET the
      // storm counted was one, vigil_gateway_connections_dropped_total{reason="head_timeout"}).
      this.connectQueue.push(agent);
      this.drainConnects();
    },
    drainConnects() {
      while (this.connectHead < this.connectQueue.length && this.connectsInFlight < o.connectConcurrency) {
        const a = this.connectQueue[this.connectHead++];
        if (this.connectHead > 4096 && this.connectHead * 2 > this.connectQueue.length) {
          this.connectQueue = this.connectQueue.slice(this.connectHead);
          this.connectHead = 0;
        }
        // Queued twice (a retry and a reconnect timer), or already connecting: taking a slot it would
        // never give back would starve every agent still waiting for its first connection.
        if (a.stopped || this.stopping || a.ws || a.gated || !a.creds) continue;
        a.gated = true;
        this.connectsInFlight++;
        a.connect();
      }
    },
    releaseConnectSlot(agent) {
      agent.gated = false;
      this.connectsInFlight--;
      this.drainConnects();
    },

    onReady(agent) {
      this.readyCount++;
      if (!agent.everReady) {
        agent.everReady = true;
        this.everReadyCount++;
        this.settle();
      }
      if (this.storm && agent.stormAt) {
        this.storm.latency.push(performance.now() - agent.stormAt);
        agent.stormAt = 0;
        if (--this.storm.pending === 0) this.storm.done();
      }
    },
    onNotReady() {
      this.readyCount--;
    },
    settle() {
      if (this.everReadyCount + this.stats.enrolFailed >= o.agents && this.allConnectedAt === null) {
        this.allConnectedAt = performance.now();
        resolveReady(summaryReady());
      }
    },

    queueEnrol(agent) {
      this.enrolQueue.push(agent);
      this.drainEnrols();
    },
    drainEnrols() {
      while (this.enrolQueue.length && this.enrolsInFlight < o.enrolConcurrency && !this.stopping) {
        const a = this.enrolQueue.shift();
        this.enrolsInFlight++;
        void enrolOne(a).finally(() => {
          this.enrolsInFlight--;
          this.drainEnrols();
          if (this.enrolQueue.length === 0 && this.enrolsInFlight === 0 && this.allEnrolledAt === null) {
            this.allEnrolledAt = performance.now();
            persist();
          }
        });
      }
    },

    check(line, type) {
      this.stats.selfCheck.checked++;
      const d = decodeAgentFrame(line);
      if (!d.ok) this.selfCheckFailure({ direction: 'agent → collector', type, code: d.code, reason: d.reason });
    },
    selfCheckFailure(f) {
      const s = this.stats.selfCheck;
      s.failed++;
      if (s.failures.length < 10) s.failures.push(f);
    },
  };

  const fail = (err) => {
    if (failure) return;
    failure = err;
    rejectReady(err);
    failed.reject(err);
  };
  const failed = {};
  failed.promise = new Promise((_, rej) => (failed.reject = rej));
  failed.promise.catch(() => {});

  // --- the agents
  const agents = new Array(o.agents);
  for (let slot = 0; slot < o.agents; slot++) {
    const i = o.firstIndex + slot;
    const a = new SimAgent(sim, i, slot, fleet.host(i));
    a.localAddress = addresses[i % addresses.length];
    const s = saved.get(i);
    if (s) {
      a.creds = { agentId: s.agentId, hostId: s.hostId, agentToken: s.agentToken };
      a.nextSeq = s.lastSeq;
      a.ackedSeq = s.lastSeq;
      a.sentUpTo = s.lastSeq;
    }
    agents[slot] = a;
  }

  sim.heap = new TimerHeap((i, kind, gen) => {
    const a = agents[i];
    if (kind === EVENT) fireEvent(a);
    else if (kind === HEARTBEAT) {
      if (gen === a.hbGen) a.heartbeat();
    } else if (kind === RECONNECT && gen === a.reconnectGen && !a.ws) sim.queueConnect(a);
  }, Math.max(1024, o.agents * 3));

  function fireEvent(a) {
    if (sim.stopping) return;
    const e = plan.next(a.host, sim.startedWall, a.idleThresholdSeconds);
    if (e.type) {
      if (!a.ready) sim.stats.eventsDueWhileNotReady++;
      a.append(e.type, e.body);
    }
    const due = plan.dueAt(a.host);
    if (due !== Infinity) sim.heap.push(sim.startedPerf + due, a.slot, EVENT, 0);
  }

  async function enrolOne(a) {
    const body = { secret: o.enrolSecret, host: a.host.facts() };
    if (o.selfCheck) {
      const r = EnrolRequest.safeParse(body);
      sim.stats.selfCheck.checked++;
      if (!r.success) sim.selfCheckFailure({ direction: 'enrol', reason: r.error.message.slice(0, 500) });
    }
    for (;;) {
      if (sim.stopping) return;
      let res;
      try {
        res = await fetch(`${collectorUrl}/api/v1/enrol`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
      } catch (err) {
        res = { status: 0, err };
      }
      if (res.status === 201) {
        const r = await res.json();
        a.creds = { agentId: r.agentId, hostId: r.hostId, agentToken: r.agentToken };
        sim.stats.enrolled++;
        if (sim.stats.enrolled % 2000 === 0) persist();
        sim.queueConnect(a);
        return;
      }
      const text = res.status ? await res.text().catch(() => '') : '';
      if (res.status === 401 || res.status === 403 || res.status === 400) {
        fail(new Error(`enrolment refused by the collector: HTTP ${res.status} ${text.slice(0, 300)}${res.status === 401 ? ' (check --enrol-secret / VIGIL_ENROL_SECRET)' : ''}`));
        return;
      }
      if (++a.enrolAttempts >= 8) {
        sim.stats.enrolFailed++;
        bump(sim.stats.refused, `enrol ${res.status || res.err?.cause?.code || res.err?.name}`);
        sim.settle();
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** a.enrolAttempts) * (0.5 + sim.jitter.next() / 2)));
    }
  }

  function persist() {
    const out = new Map();
    for (const a of agents) if (a.creds) out.set(a.index, { ...a.creds, lastSeq: a.nextSeq });
    try {
      if (o.state) o.state.save(out);
      else saveState(stateFile, { seed: o.seed, collectorUrl }, out);
    } catch (err) {
      bump(sim.stats.socketErrors, `state file: ${err.code ?? err.message}`);
    }
  }

  // Start: every agent takes its snapshot first (as the agent does on start), then enrols if it
  // must, then connects; the event schedule runs from now whether or not it is connected yet.
  for (const a of agents) {
    a.append('snapshot', null);
    const first = plan.init(a.host);
    if (first !== Infinity) sim.heap.push(sim.startedPerf + first, a.slot, EVENT, 0);
  }
  for (const a of agents) {
    if (a.creds) {
      sim.stats.enrolReused++;
      sim.queueConnect(a);
    } else sim.queueEnrol(a);
  }
  if (sim.enrolQueue.length === 0 && sim.enrolsInFlight === 0) sim.allEnrolledAt = performance.now();

  // An agent with messages in flight and no ack for 30 s presumes the connection dead (agent's ackTimeoutMs).
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const a of agents) {
      if (a.ready && a.sentUpTo > a.ackedSeq && now - a.lastProgressAt > 30_000) {
        bump(sim.stats.socketErrors, 'ack timeout');
        a.ws?.terminate();
      }
    }
  }, 5000);
  sweep.unref();

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const seconds = (t) => (t === null ? null : +((t - sim.startedPerf) / 1000).toFixed(2));

  function summaryReady() {
    return { agents: o.agents, enrolledSeconds: seconds(sim.allEnrolledAt), connectedSeconds: seconds(sim.allConnectedAt), connected: sim.readyCount, enrolFailed: sim.stats.enrolFailed };
  }

  /**
   * The summary so far; `resetWindow` starts a new window for `windowAckLatencyMs`; `raw` adds the
   * histograms' buckets (`histograms`), for merging the summaries of several processes.
   */
  function stats({ resetWindow = false, raw = false } = {}) {
    const s = sim.stats;
    const windowAck = s.windowAckLatency.summary();
    const windowSnapshotAck = s.windowSnapshotAckLatency.summary();
    const histograms = raw
      ? { ackLatencyMs: s.ackLatency.toJSON(), windowAckLatencyMs: s.windowAckLatency.toJSON(), snapshotAckLatencyMs: s.snapshotAckLatency.toJSON(), windowSnapshotAckLatencyMs: s.windowSnapshotAckLatency.toJSON() }
      : undefined;
    if (resetWindow) {
      s.windowAckLatency = new LatencyHistogram();
      s.windowSnapshotAckLatency = new LatencyHistogram();
    }
    const cpu = process.cpuUsage(cpu0);
    const mem = process.memoryUsage();
    const templatesUsed = {};
    for (const a of agents) bump(templatesUsed, a.host.template.id);
    let pending = 0;
    for (const a of agents) pending += a.outbox.length;
    return {
      seed: String(o.seed),
      agents: o.agents,
      ...(o.firstIndex ? { firstIndex: o.firstIndex } : {}),
      collectorUrl,
      stateFile,
      profile: o.profile,
      eventsPerAgentPerHour: o.eventsPerAgentPerHour,
      elapsedSeconds: seconds(performance.now()),
      templates: templatesUsed,
      enrolment: { enrolled: s.enrolled, reused: s.enrolReused, failed: s.enrolFailed, reEnrolled: s.reEnrolled, allEnrolledSeconds: seconds(sim.allEnrolledAt) },
      connections: {
        connected: sim.readyCount,
        everConnected: sim.everReadyCount,
        allConnectedSeconds: seconds(sim.allConnectedAt),
        connects: s.connects,
        reconnects: s.reconnects,
        disconnects: s.disconnects,
        closeCodes: s.closeCodes,
        refused: s.refused,
        socketErrors: s.socketErrors,
        sourceAddresses: addresses.filter(Boolean),
      },
      messages: {
        produced: s.produced,
        sent: s.sent,
        resent: s.resent,
        acked: s.acked,
        rejected: s.rejected,
        rejectedByCode: s.rejectedByCode,
        errorFrames: s.errorFrames,
        dropped: s.dropped,
        pending,
        commands: s.commands,
        eventsWhileDisconnected: s.eventsDueWhileNotReady,
      },
      ackLatencyMs: s.ackLatency.summary(),
      windowAckLatencyMs: windowAck,
      snapshotAckLatencyMs: s.snapshotAckLatency.summary(),
      windowSnapshotAckLatencyMs: windowSnapshotAck,
      ...(o.selfCheck ? { selfCheck: s.selfCheck } : {}),
      process: {
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        rssBeforeBytes: rss0,
        rssWithTemplatesBytes: rssTemplates,
        bytesPerAgent: Math.round((mem.rss - rssTemplates) / o.agents),
        cpuSeconds: { user: +(cpu.user / 1e6).toFixed(2), system: +(cpu.system / 1e6).toFixed(2) },
        eventLoopDelayMs: { p99: +(loop.percentile(99) / 1e6).toFixed(1), max: +(loop.max / 1e6).toFixed(1) },
      },
      ...(histograms ? { histograms } : {}),
    };
  }

  const progress = o.onProgress
    ? setInterval(() => {
        const s = sim.stats;
        const lat = s.ackLatency;
        const p = (x) => (x === null ? '-' : x.toFixed(1));
        const sent = Object.values(s.sent).reduce((x, y) => x + y, 0);
        o.onProgress(
          `[sim ${seconds(performance.now()).toFixed(0)}s] enrolled ${s.enrolled + s.enrolReused}/${o.agents} connected ${sim.readyCount} sent ${sent} acked ${s.acked} rejected ${s.rejected} reconnects ${s.reconnects} errors ${Object.values(s.socketErrors).reduce((x, y) => x + y, 0)} ack p50 ${p(lat.percentile(50))} ms p99 ${p(lat.percentile(99))} ms rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
        );
      }, o.progressSeconds * 1000)
    : undefined;
  progress?.unref();

  return {
    ready,
    failed: failed.promise,
    stats,
    /** The fleet as generated (for comparing runs). */
    describe: (n = o.agents) => agents.slice(0, n).map((a) => a.host.describe()),
    /** Where its credentials are kept: the state file, or null when `state` was given. */
    stateFile,

    /**
     * Drops every open connection at once (as a network blip or a collector failover would) and
     * resolves when every one of those agents is connected again and has had `config` back for its
     * hello, with how long that took (`raw`: with every agent's time back, for merging shards).
     */
    stormReconnect({ timeoutMs = 300_000, raw = false } = {}) {
      if (sim.storm) return Promise.reject(new Error('a reconnect storm is already running'));
      const victims = agents.filter((a) => a.ready);
      const t0 = performance.now();
      const reconnects0 = sim.stats.reconnects;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const pending = sim.storm?.pending;
          sim.storm = null;
          reject(new Error(`reconnect storm: ${pending} of ${victims.length} agents not back after ${timeoutMs} ms`));
        }, timeoutMs);
        sim.storm = {
          pending: victims.length,
          latency: [],
          done: () => {
            clearTimeout(timer);
            const ms = performance.now() - t0;
            const lat = sim.storm.latency.sort((a, b) => a - b);
            sim.storm = null;
            const at = (p) => +lat[Math.max(0, Math.ceil((p / 100) * lat.length) - 1)].toFixed(1);
            const perAgentMs = lat.length ? { p50: at(50), p95: at(95), p99: at(99), max: +lat.at(-1).toFixed(1) } : null;
            resolve({ agents: victims.length, allBackMs: +ms.toFixed(1), perAgentMs, connectionAttempts: sim.stats.reconnects - reconnects0, ...(raw ? { latenciesMs: lat } : {}) });
          },
        };
        if (victims.length === 0) return sim.storm.done();
        for (const a of victims) {
          a.stormAt = t0;
          a.ws.terminate();
        }
      });
    },

    /** Goodbye from every connected agent (delivered within `graceMs`), then close everything. */
    async stop({ goodbye = true, graceMs = o.stopGraceSeconds * 1000, raw = false } = {}) {
      if (sim.stopping) return stats({ raw });
      // No new events once stopping: an event scheduled during the goodbye wait would be left unacknowledged.
      sim.heap.stop();
      if (goodbye) {
        for (const a of agents) if (a.ready) a.append('goodbye', { reason: 'stop' });
        const deadline = performance.now() + graceMs;
        while (performance.now() < deadline && agents.some((a) => a.ready && a.outbox.length > 0)) {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      sim.stopping = true;
      clearInterval(sweep);
      clearInterval(progress);
      const closed = [];
      for (const a of agents) {
        a.stopped = true;
        const ws = a.ws;
        if (!ws) continue;
        closed.push(
          new Promise((r) => {
            const t = setTimeout(() => {
              ws.terminate();
              r();
            }, 2000);
            ws.once('close', () => {
              clearTimeout(t);
              r();
            });
          }),
        );
        if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'simulation over');
        else ws.terminate();
      }
      const final = stats({ raw });
      await Promise.all(closed);
      persist();
      loop.disable();
      return final;
    },
    get failure() {
      return failure;
    },
  };
}
