import path from 'node:path';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, ROOT, startProcess, tempDir, until, type Proc } from './support/processes.js';

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGTERM')));
});

describe('npm start (the embedded default)', () => {
  it('starts a collector and a local agent; this machine appears (the check allows 15 s); Ctrl-C stops both cleanly', async () => {
    const dataDir = tempDir('start');
    const port = await freePort();
    const p = startProcess(path.join(ROOT, 'scripts/start.mjs'), [], {
      VIGIL_DATA_DIR: dataDir,
      VIGIL_PORT: String(port),
      VIGIL_LOG_FORMAT: 'json',
    });
    procs.push(p);
    const token = await until(async () => /admin API token:\s+(vgt_\S+)/.exec(p.stdout())?.[1], 15_000);
    const url = `http://127.0.0.1:${port}`;
    const host = await until(async () => {
      const res = await fetch(`${url}/api/v1/hosts`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { items: { hostname: string; status: string; os: { platform: string } }[] };
      return body.items.find((h) => h.status === 'online');
    }, 15_000);
    expect(host.hostname).toBe(os.hostname());
    expect(host.os.platform).toBe(process.platform);
    expect(p.stdout()).toContain(`Vigil is running: collector ${url}`);

    p.child.kill('SIGINT');
    expect((await p.exited).code).toBe(0);
    expect(p.logs.some((l) => l.msg === 'agent stopped')).toBe(true);

    // A second start reuses the data: no new secrets, the same host, still enrolled.
    const again = startProcess(path.join(ROOT, 'scripts/start.mjs'), [], { VIGIL_DATA_DIR: dataDir, VIGIL_PORT: String(port), VIGIL_LOG_FORMAT: 'json' });
    procs.push(again);
    await again.waitForLog((l) => l.msg === 'connected to the collector');
    expect(again.stdout()).not.toContain('Vigil first run');
    const res = await fetch(`${url}/api/v1/hosts`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(1);
  });
});
