// Ingest throughput through the real path: WebSocket → schema → SQLite commit → ack, with
// K agents each keeping a window of messages in flight, as the agent's link does.
import { agentEnvelope } from '@vigil/shared';
import { connectAgent, cpuSeconds, enrol, rssBytes, startCollector, tempDir } from './lib.mjs';

/** One agent sends `count` session.state events keeping `window` unacknowledged; resolves when all are acked. */
function drive(ws, count, window) {
  return new Promise((resolve, reject) => {
    let next = 1;
    let acked = 0;
    const send = () => {
      while (next <= count && next - acked <= window) {
        const seq = next++;
        ws.send(JSON.stringify(agentEnvelope('session.state', seq, { sessions: [{ id: String(seq % 7), user: 'alice', locked: seq % 2 === 0, idle: seq % 3 === 0, remote: false, seat: 'seat0' }] })));
      }
    };
    ws.on('message', (d) => {
      const f = JSON.parse(String(d));
      if (f.type === 'ack') {
        if (f.body.rejected) return reject(new Error(`rejected: ${JSON.stringify(f.body.rejected)}`));
        acked = f.body.upToSeq;
        if (acked >= count) resolve();
        else send();
      }
    });
    send();
  });
}

export async function benchIngest({ agents = 20, perAgent = 5000, window = 500 } = {}) {
  const collector = await startCollector(tempDir('ingest'));
  try {
    const creds = [];
    for (let i = 0; i < agents; i++) creds.push(await enrol(collector.url, `bench-${i}`));
    const sockets = await Promise.all(creds.map((c) => connectAgent(collector.url, c)));
    const cpu0 = cpuSeconds(collector.pid);
    const t0 = process.hrtime.bigint();
    await Promise.all(sockets.map((ws) => drive(ws, perAgent, window)));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuSeconds(collector.pid) - cpu0;
    const rss = rssBytes(collector.pid);
    for (const ws of sockets) ws.close();
    const events = agents * perAgent;
    return { agents, perAgent, window, events, seconds: +seconds.toFixed(3), eventsPerSecond: Math.round(events / seconds), collectorCpuSeconds: +cpu.toFixed(2), collectorRssMiB: +(rss / 2 ** 20).toFixed(1) };
  } finally {
    collector.child.kill('SIGTERM');
    await new Promise((r) => collector.child.once('exit', r));
  }
}
