import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DROPPABLE_TYPES } from '@vigil/shared';
import { addSysfsDevice, loadSysfsFixture, makeSysfsRoot, removeSysfsDevice, removeSysfsRoots, type SysfsDevice } from '../agent/src/probes/usb/test-support/sysfs-tree.js';
import { startCutProxy, type CutProxy } from './support/cut-proxy.js';
import { api, freePort, startAgent, startCollector, tempDir, until, type Proc } from './support/processes.js';

/**
 * A network cut longer than the agent's outbox can hold (issue 9), end to end: a real agent with
 * the smallest outbox (64 KiB) reporting through a TCP proxy that first holds the connection open
 * and carries nothing (heartbeats pile up unacknowledged), then refuses it, while USB devices come
 * and go in the agent's sysfs tree and packages are installed in its dpkg database. Then the
 * network returns.
 */
const procs: Proc[] = [];
const proxies: CutProxy[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await removeSysfsRoots();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A dpkg status stanza as dpkg writes one for an installed package. */
const stanza = (name: string) =>
  [`Package: ${name}`, 'Status: install ok installed', 'Priority: optional', 'Section: misc', 'Installed-Size: 64', 'Maintainer: Acme Software Ltd <packages@acme.example>', 'Architecture: amd64', 'Version: 1.0-1', `Description: ${name}`, ''].join('\n');

function storedByType(dataDir: string) {
  const db = new Database(path.join(dataDir, 'vigil.db'), { readonly: true });
  try {
    const byType = Object.fromEntries((db.prepare('SELECT type, count(*) AS n FROM messages GROUP BY type').all() as { type: string; n: number }[]).map((r) => [r.type, r.n]));
    const agent = db.prepare('SELECT heartbeats FROM agents').get() as { heartbeats: number };
    const seqs = db.prepare('SELECT count(*) AS n, count(DISTINCT seq) AS d FROM messages').get() as { n: number; d: number };
    // Packages installed, as the software.changed messages tell (one message may carry several).
    const installed = (db.prepare("SELECT body FROM messages WHERE type = 'software.changed'").all() as { body: string }[]).flatMap(
      (r) => (JSON.parse(r.body) as { installed: { name: string }[] }).installed.map((i) => i.name),
    );
    return { byType, heartbeats: agent.heartbeats, rows: seqs.n, distinctSeqs: seqs.d, installed: installed.sort() };
  } finally {
    db.close();
  }
}

describe('a network cut longer than the outbox holds', () => {
  it('the agent drops only heartbeats, never USB or software events, and the collector shows exactly what it dropped', async () => {
    const dataDir = tempDir('collector');
    const collector = await startCollector({ dataDir, port: await freePort(), args: ['--heartbeat-seconds', '0.05'] });
    procs.push(collector);
    const proxy = await startCutProxy({ host: '127.0.0.1', port: Number(new URL(collector.url).port) });
    proxies.push(proxy);

    const sysfs = await makeSysfsRoot();
    const dpkgDir = tempDir('dpkg');
    const dpkgStatus = path.join(dpkgDir, 'status');
    const packages = [stanza('acme-base')];
    const writeDpkg = () => {
      fs.writeFileSync(`${dpkgStatus}-new`, packages.join('\n'));
      fs.renameSync(`${dpkgStatus}-new`, dpkgStatus);
    };
    writeDpkg();
    const agent = startAgent({
      stateDir: tempDir('agent'),
      url: proxy.url,
      args: ['--outbox-max-bytes', String(64 * 1024)],
      env: { VIGIL_SYSFS_ROOT: sysfs, VIGIL_DPKG_STATUS: dpkgStatus, VIGIL_SOFTWARE_CHECK_SECONDS: '1' },
    });
    procs.push(agent);
    await agent.waitForLog((l) => l.msg === 'connected to the collector');
    await sleep(500);

    const devices: SysfsDevice[] = [];
    for (const f of ['sandisk-stick.json', 'sony-xperia-phone.json', 'kinesis-keyboard.json', 'hid-storage-gadget.json']) {
      const fixture = await loadSysfsFixture(f);
      const d = fixture.devices.find((x) => !path.basename(x.path).startsWith('usb') && x.attrs.idVendor !== '1d6b' && !(x.attrs.bDeviceClass === '09'));
      if (d) devices.push(d);
    }
    expect(devices.length).toBeGreaterThanOrEqual(3);
    let attached = 0;
    let detached = 0;
    let installed = 0;
    /** One USB attach or detach and one package installed, spaced past the probes' 1 s polls. */
    const events = async (rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        if (attached === detached) {
          await addSysfsDevice(sysfs, devices[attached % devices.length]!);
          attached++;
        } else {
          await removeSysfsDevice(sysfs, devices[detached % devices.length]!);
          detached++;
        }
        packages.push(stanza(`acme-tool-${++installed}`));
        writeDpkg();
        await sleep(1600);
      }
    };

    // The cut, first half-dead: the connection stays open and carries nothing. The agent keeps
    // appending (heartbeats at 20/s, events) until its 64 KiB are full and it drops.
    proxy.setMode('blackhole');
    const cutAt = Date.now();
    const overflowed = () => agent.logs.some((l) => l.msg === 'outbox: over budget; dropped the oldest droppable messages');
    for (let i = 0; !overflowed(); i++) {
      if (i >= 25) throw new Error(`the outbox never overflowed:\n${agent.logs.slice(-20).map((l) => JSON.stringify(l)).join('\n')}`);
      await events(1);
    }
    await events(2);
    // Then refused outright (the agent reconnects in vain) while events go on.
    proxy.setMode('refuse');
    await events(2);
    if (attached > detached) await events(1);
    const cutMs = Date.now() - cutAt;

    // The network returns: everything kept is sent.
    proxy.setMode('pass');
    await until(async () => {
      const s = storedByType(dataDir);
      return (s.byType['usb.detached'] ?? 0) >= detached && s.installed.length >= installed;
    }, 30_000, 200).catch((err: unknown) => {
      throw new Error(`${String(err)}: stored ${JSON.stringify(storedByType(dataDir))}, made ${attached}/${detached}/${installed}\n${agent.logs.filter((l) => Number(l.level) >= 30).slice(-30).map((l) => JSON.stringify(l)).join('\n')}`);
    });
    await sleep(500);
    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const stopped = (await agent.waitForLog((l) => l.msg === 'agent stopped', 1000)) as unknown as {
      counters: { produced: number; acknowledged: number; rejected: number; dropped: number };
      droppedByType: Record<string, number>;
      pending: number;
    };

    // Dropped: only low-value samples (here heartbeats), counted by type, and some were.
    expect(stopped.pending).toBe(0);
    expect(stopped.counters.dropped).toBeGreaterThan(0);
    expect(Object.keys(stopped.droppedByType).every((t) => (DROPPABLE_TYPES as readonly string[]).includes(t)), JSON.stringify(stopped.droppedByType)).toBe(true);
    expect(Object.values(stopped.droppedByType).reduce((a, b) => a + b, 0)).toBe(stopped.counters.dropped);
    // Never USB or software: every one the test caused arrived, once.
    const s = storedByType(dataDir);
    expect(s.byType['usb.attached']).toBe(attached);
    expect(s.byType['usb.detached']).toBe(detached);
    expect(s.installed).toEqual(Array.from({ length: installed }, (_, i) => `acme-tool-${i + 1}`).sort());
    expect(s.rows).toBe(s.distinctSeqs);
    // Everything made is stored, counted as a heartbeat, or dropped, and nothing else. A message
    // already written to the socket when the outbox dropped it may still have arrived (in one
    // loaded full run, one heartbeat did): stored and dropped then overlap, so the sum can exceed what was
    // made by those, never fall short of it, and nothing is stored that was not made.
    expect(s.rows + s.heartbeats).toBeLessThanOrEqual(stopped.counters.produced);
    expect(s.rows + s.heartbeats + stopped.counters.dropped).toBeGreaterThanOrEqual(stopped.counters.produced);
    expect(stopped.counters.acknowledged + stopped.counters.dropped + stopped.counters.rejected).toBe(stopped.counters.produced);

    // The collector shows exactly what the agent dropped, by type.
    const hosts = (await api<{ items: { id: string; agent: { droppedByType: Record<string, number> | null; counters: { dropped: number } | null } }[] }>(collector.url, '/api/v1/hosts')).body.items;
    expect(hosts).toHaveLength(1);
    expect(hosts[0]!.agent.droppedByType).toEqual(stopped.droppedByType);
    expect(hosts[0]!.agent.counters?.dropped).toBe(stopped.counters.dropped);
    expect(await collector.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    process.stdout.write(
      `outbox overflow test: cut ${cutMs} ms; ${stopped.counters.produced} messages made, dropped ${JSON.stringify(stopped.droppedByType)}; ${attached} USB attaches, ${detached} detaches, ${installed} packages installed (in ${s.byType['software.changed']} software.changed) all stored once; API droppedByType ${JSON.stringify(hosts[0]!.agent.droppedByType)}\n`,
    );
  }, 120_000);
});
