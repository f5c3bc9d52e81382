// Background load for bench/alert-latency.mjs, in a worker thread so that its sending does not
// delay the main thread's timestamps: K agents push `session.state` frames at a paced total rate,
// each keeping at most `window` unacknowledged, as the agent's link does.
import { parentPort, workerData } from 'node:worker_threads';
import { agentEnvelope } from '@vigil/shared';
import { connectAgent } from './lib.mjs';

const { url, creds, rate, window } = workerData;
const TICK_MS = 5;

const agents = await Promise.all(
  creds.map(async (c) => {
    const a = { ws: await connectAgent(url, c), next: 1, acked: 0 };
    a.ws.on('message', (d) => {
      const f = JSON.parse(String(d));
      if (f.type !== 'ack') return;
      if (f.body.rejected?.length) parentPort.postMessage({ error: `rejected: ${JSON.stringify(f.body.rejected)}` });
      a.acked = f.body.upToSeq;
    });
    return a;
  }),
);

let timer;
let started = 0;
let sent = 0;
/** Frames that could not go because every agent's window was full (the collector fell behind). */
let deferred = 0;
let turn = 0;

function send(a) {
  const seq = a.next++;
  const body = { sessions: [{ id: String(seq % 7), user: 'alice', locked: seq % 2 === 0, idle: seq % 3 === 0, remote: false, seat: 'seat0' }] };
  a.ws.send(JSON.stringify(agentEnvelope('session.state', seq, body)));
  sent++;
}

function tick() {
  const due = Math.floor(((performance.now() - started) * rate) / 1000) - sent - deferred;
  for (let i = 0; i < due; i++) {
    let a;
    for (let tries = 0; tries < agents.length; tries++) {
      const candidate = agents[turn++ % agents.length];
      if (candidate.next - 1 - candidate.acked < window) {
        a = candidate;
        break;
      }
    }
    if (a) send(a);
    else deferred++;
  }
}

const ackedTotal = () => agents.reduce((n, a) => n + a.acked, 0);

parentPort.on('message', async (m) => {
  if (m === 'start') {
    started = performance.now();
    timer = setInterval(tick, TICK_MS);
  } else if (m === 'count') {
    parentPort.postMessage({ count: { at: performance.now(), sent, acked: ackedTotal(), deferred } });
  } else if (m === 'stop') {
    clearInterval(timer);
    const deadline = Date.now() + 30_000;
    while (ackedTotal() < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const a of agents) a.ws.close();
    parentPort.postMessage({ stopped: { sent, acked: ackedTotal(), deferred } });
  }
});
parentPort.postMessage({ ready: true });
