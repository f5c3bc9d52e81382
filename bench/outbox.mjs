// The agent's outbox: fsynced appends per second, one at a time and in groups, on this disk.
import fs from 'node:fs';
import { Outbox } from '@vigil/agent';
import { tempDir } from './lib.mjs';

const body = { counters: { produced: 1, sent: 1, acknowledged: 1, rejected: 0, dropped: 0 }, droppedByType: {}, outbox: { pending: 0, bytes: 0 }, uptimeSeconds: 1 };

function rate(fn, count) {
  const t0 = process.hrtime.bigint();
  fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return Math.round(count / s);
}

export function benchOutbox({ single = 2000, grouped = 20_000, group = 100 } = {}) {
  const dir = tempDir('outbox');
  const o = Outbox.open({ dir });
  try {
    const singleRate = rate(() => {
      for (let i = 0; i < single; i++) o.append('heartbeat', body);
    }, single);
    const groupedRate = rate(() => {
      for (let i = 0; i < grouped; i += group) o.appendMany(Array.from({ length: group }, () => ({ type: 'heartbeat', body })));
    }, grouped);
    return { singleAppendsPerSecond: singleRate, groupedAppendsPerSecond: groupedRate, groupSize: group };
  } finally {
    o.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
