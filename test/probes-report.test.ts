import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { addSysfsDevice, loadSysfsFixture, makeSysfsRoot, removeSysfsDevice, removeSysfsRoots } from '../agent/src/probes/usb/test-support/sysfs-tree.js';
import { AGENT_BIN, freePort, startAgent, startCollector, startProcess, tempDir, until, type Proc } from './support/processes.js';

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
  await removeSysfsRoots();
});

function messagesOfType(dataDir: string, type: string): { body: string }[] {
  const db = new Database(path.join(dataDir, 'vigil.db'), { readonly: true });
  try {
    return db.prepare('SELECT body FROM messages WHERE type = ? ORDER BY seq').all(type) as { body: string }[];
  } finally {
    db.close();
  }
}

describe('probes reach the collector', () => {
  it('a device written into a sysfs tree arrives as usb.attached with its interface classes, and its removal as usb.detached', async () => {
    const sysfs = await makeSysfsRoot();
    const dataDir = tempDir('collector');
    const collector = await startCollector({ dataDir, port: await freePort() });
    procs.push(collector);
    const agent = startAgent({ stateDir: tempDir('agent'), url: collector.url, env: { VIGIL_SYSFS_ROOT: sysfs } });
    procs.push(agent);
    await agent.waitForLog((l) => l.msg === 'connected to the collector');

    const fixture = await loadSysfsFixture('hid-storage-gadget.json');
    const device = fixture.devices.find((d) => !path.basename(d.path).startsWith('usb'));
    if (!device) throw new Error('fixture has no device');
    await addSysfsDevice(sysfs, device);
    const [attached] = await until(async () => {
      const rows = messagesOfType(dataDir, 'usb.attached');
      return rows.length > 0 && rows;
    }, 10_000);
    const body = JSON.parse(attached?.body ?? '{}');
    expect(body.device.vendorId).toBe(device.attrs.idVendor);
    expect(body.device.productId).toBe(device.attrs.idProduct);
    const expectedClasses = [...new Set(Object.values(device.interfaces ?? {}).map((i) => i.bInterfaceClass))].sort();
    expect(body.device.interfaceClasses).toEqual(expectedClasses);
    expect(expectedClasses.length).toBeGreaterThan(1);

    await removeSysfsDevice(sysfs, device);
    const detached = await until(async () => {
      const rows = messagesOfType(dataDir, 'usb.detached');
      return rows.length > 0 && rows;
    }, 10_000);
    expect(JSON.parse(detached[0]?.body ?? '{}').key).toBe(body.device.key);
  });

  it('the snapshot carries the real dpkg inventory, and collect --json prints every probe', async () => {
    const p = startProcess(AGENT_BIN, ['collect', '--json'], {});
    expect((await p.exited).code).toBe(0);
    const facts = JSON.parse(p.stdout());
    expect(Object.keys(facts).sort()).toEqual(['host', 'screenlock', 'sessions', 'software', 'usb']);
    // This machine: a real dpkg database; no /sys/bus/usb; no systemd-logind.
    expect(Array.isArray(facts.software)).toBe(true);
    expect(facts.software.find((s: { name: string; source: string }) => s.name === 'dpkg' && s.source === 'dpkg')).toBeTruthy();
    for (const probe of ['usb', 'sessions']) {
      if (!Array.isArray(facts[probe])) expect(facts[probe]).toMatchObject({ status: 'unknown', reason: expect.any(String) });
    }
  });
});
