import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from './outbox.js';
import { makeTempDir, removeTempDirs } from './test-support/outbox-fixtures.js';

/**
 * kill -9 in the middle of appends and acks. The child runs the compiled outbox: `npm test`
 * builds agent/dist first (`tsc -b`); without it this test fails and says so.
 */
const compiled = new URL('../../dist/outbox/outbox.js', import.meta.url);
const child = fileURLToPath(new URL('./test-support/append-until-killed.mjs', import.meta.url));

afterEach(removeTempDirs);

interface ChildReport {
  appended: Map<number, string>;
  ackBegun: number;
  acked: number;
  openedAt: number;
}

/** Runs the child until it has reported `appends` appends, then SIGKILLs it at a random moment. */
async function runAndKill(dir: string, appends: number): Promise<ChildReport> {
  const proc = spawn(process.execPath, [child, compiled.href, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let count = 0;
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // Never leave the child running, even if it stops reporting.
  const deadline = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      count += d.toString().split('\n').length - 1;
      if (count >= appends && !proc.killed) setTimeout(() => proc.kill('SIGKILL'), Math.floor(Math.random() * 20));
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (signal === 'SIGKILL' && count >= appends) resolve();
      else reject(new Error(`child exited (${code ?? signal}) after ${count} lines: ${err}`));
    });
  });
  const report: ChildReport = { appended: new Map(), ackBegun: 0, acked: 0, openedAt: -1 };
  // Only complete lines count: a line is written after the call it reports has returned.
  for (const line of out.split('\n').slice(0, -1)) {
    const [a, b] = line.split(' ');
    if (a === 'open') report.openedAt = Number(b);
    else if (a === 'ack-begin') report.ackBegun = Number(b);
    else if (a === 'ack') report.acked = Number(b);
    else report.appended.set(Number(a), b ?? '');
  }
  return report;
}

describe('Outbox: kill -9', () => {
  it('runs against a build of the agent', () => {
    expect(fs.existsSync(compiled), `${fileURLToPath(compiled)} is missing: run \`npx tsc -b\` (npm test does)`).toBe(true);
  });

  it('keeps every append that returned, exactly once and in order, across repeated kills', { timeout: 60_000 }, async () => {
    const dir = makeTempDir();
    let lastSeq = 0;
    let ackedSeq = 0;
    for (let round = 0; round < 4; round++) {
      const report = await runAndKill(dir, 400);
      expect(report.openedAt).toBe(lastSeq);
      const reportedSeqs = [...report.appended.keys()];
      // The child continued exactly where recovery left off.
      expect(reportedSeqs[0]).toBe(lastSeq + 1);
      reportedSeqs.forEach((s, i) => expect(s).toBe(lastSeq + 1 + i));

      const ob = Outbox.open({ dir, segmentBytes: 16 * 1024 });
      try {
        const stats = ob.stats();
        // An ack that returned is durable; one cut short may or may not have happened.
        expect([Math.max(report.acked, ackedSeq), Math.max(report.ackBegun, ackedSeq)]).toContain(stats.ackedSeq);
        const pending = ob.pending(0, 1_000_000);
        const seqs = pending.map((m) => m.seq);
        // Nothing missing, nothing twice: every seq from the ack to the last append, once.
        expect(seqs).toEqual(Array.from({ length: stats.lastSeq - stats.ackedSeq }, (_, i) => stats.ackedSeq + 1 + i));
        // Every reported append above the ack is there with the same id.
        for (const [seq, id] of report.appended) {
          if (seq <= stats.ackedSeq) continue;
          const m = pending[seq - stats.ackedSeq - 1];
          expect(m?.seq).toBe(seq);
          expect(JSON.parse(m?.line ?? '{}')).toMatchObject({ seq, id });
        }
        // At most one batch (up to 7) was on disk but not yet reported when the kill came.
        const maxReported = Math.max(...reportedSeqs);
        expect(stats.lastSeq).toBeGreaterThanOrEqual(maxReported);
        expect(stats.lastSeq - maxReported).toBeLessThanOrEqual(7);
        const c = ob.counters();
        expect(c.produced).toBe(c.acknowledged + c.rejected + c.dropped + stats.pending);
        expect(c.dropped).toBe(0);
        lastSeq = stats.lastSeq;
        ackedSeq = stats.ackedSeq;
      } finally {
        ob.close();
      }
    }
  });
});
