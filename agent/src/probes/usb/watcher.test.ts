import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UsbDevice } from '@vigil/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProbeSources } from '../probe.js';
import type { HotplugDevice, HotplugSource } from './hotplug.js';
import { readLinuxUsb } from './linux.js';
import { fakeRunner, silentLog } from './test-support/fake-runner.js';
import { addSysfsDevice, loadSysfsFixture, makeSysfsRoot, removeSysfsDevice, removeSysfsRoots, type SysfsDevice } from './test-support/sysfs-tree.js';
import { UsbWatcher } from './watcher.js';

const watchers: UsbWatcher[] = [];
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
  await removeSysfsRoots();
});

/** A watcher that records every event; `next(kind)` resolves with the next event of that kind. */
function recordingWatcher(src: ProbeSources, extra: Partial<ConstructorParameters<typeof UsbWatcher>[1]> = {}) {
  const events: Array<{ kind: 'attached' | 'detached'; device: UsbDevice }> = [];
  const watcher = new UsbWatcher(src, {
    onAttached: (device) => events.push({ kind: 'attached', device: UsbDevice.parse(device) }),
    onDetached: (device) => events.push({ kind: 'detached', device: UsbDevice.parse(device) }),
    ...extra,
  });
  watchers.push(watcher);
  const next = (kind: 'attached' | 'detached', from = 0) =>
    vi.waitFor(
      () => {
        const e = events.slice(from).find((x) => x.kind === kind);
        if (!e) throw new Error(`no ${kind} event yet`);
        return e.device;
      },
      { timeout: 3_000, interval: 20 },
    );
  return { watcher, events, next };
}

const linuxSrc = (sysfsRoot: string) => ({ platform: 'linux', sysfsRoot, runner: fakeRunner({}), log: silentLog }) as unknown as ProbeSources;

async function stick(): Promise<SysfsDevice> {
  const d = (await loadSysfsFixture('sandisk-stick.json')).devices.find((x) => x.path.endsWith('/1-1.2'));
  if (!d) throw new Error('fixture lacks the stick');
  return d;
}

describe('UsbWatcher over a sysfs tree', () => {
  it('reports a device written into the tree, with its interface classes, and its removal', async () => {
    const root = await makeSysfsRoot();
    const { watcher, events, next } = recordingWatcher(linuxSrc(root));
    await watcher.start([]);
    const device = await stick();
    await addSysfsDevice(root, device);
    expect(await next('attached')).toMatchObject({ key: expect.stringMatching(/^usb:0781:5581:/), interfaceClasses: ['08'], busPath: '1-1.2' });
    await removeSysfsDevice(root, device);
    expect(await next('detached')).toMatchObject({ busPath: '1-1.2' });
    expect(events.map((e) => e.kind)).toEqual(['attached', 'detached']);
  });

  it('never misses a device present for 3 s', async () => {
    const root = await makeSysfsRoot();
    const { watcher, events, next } = recordingWatcher(linuxSrc(root), { intervalMs: 1000 });
    await watcher.start([]);
    const device = await stick();
    await addSysfsDevice(root, device);
    await new Promise((r) => setTimeout(r, 3_000));
    await removeSysfsDevice(root, device);
    await next('detached');
    expect(events.map((e) => `${e.kind} ${e.device.busPath}`)).toEqual(['attached 1-1.2', 'detached 1-1.2']);
  });

  it('does not report the devices it started with, and reports a change of interface classes as detach + attach', async () => {
    const root = await makeSysfsRoot();
    const device = await stick();
    await addSysfsDevice(root, device);
    const { watcher, events, next } = recordingWatcher(linuxSrc(root), { intervalMs: 100 });
    const snapshot = await readLinuxUsb(root);
    if (!Array.isArray(snapshot) || snapshot.length !== 1) throw new Error('expected the stick in the snapshot');
    await watcher.start(snapshot);
    // The same stick, re-enumerated in place with an extra HID interface (a "BadUSB" switch).
    await removeSysfsDevice(root, device);
    await addSysfsDevice(root, { ...device, interfaces: { ...device.interfaces, '1-1.2:1.1': { bInterfaceClass: '03' } } });
    const attached = await next('attached');
    expect(attached.interfaceClasses).toEqual(['03', '08']);
    expect(events.map((e) => [e.kind, e.device.interfaceClasses])).toEqual([
      ['detached', ['08']],
      ['attached', ['03', '08']],
    ]);
  });

  it('stops: no timer left pending, nothing reported afterwards', async () => {
    const root = await makeSysfsRoot();
    const created: NodeJS.Timeout[] = [];
    const real = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const t = real(fn, ms);
      created.push(t);
      return t;
    }) as typeof setTimeout);
    const { watcher, events } = recordingWatcher(linuxSrc(root), { intervalMs: 50 });
    await watcher.start([]);
    await new Promise((r) => real(r, 200));
    await watcher.stop();
    spy.mockRestore();
    expect(created.length).toBeGreaterThan(0);
    // Node marks a timeout destroyed once it has fired or been cleared: none may still be pending.
    expect(created.filter((t) => !(t as unknown as { _destroyed: boolean })._destroyed)).toEqual([]);
    await addSysfsDevice(root, await stick());
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual([]);
  });

  it('lets the process exit after stop(), with the real usb-detection loaded on /sys', async () => {
    const compiled = new URL('../../../dist/probes/usb/index.js', import.meta.url).href;
    const child = spawn(process.execPath, [fileURLToPath(new URL('./test-support/watch-then-stop.mjs', import.meta.url)), compiled], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(killer);
    expect(err).toBe('');
    expect(code).toBe(0); // killed by the 15 s guard would be null
    expect(JSON.parse(out)).toMatchObject({ stopped: true });
  }, 20_000);

  it('does not load usb-detection for a custom sysfs root or when hotplug is off', async () => {
    const loadHotplug = vi.fn(() => Promise.resolve(undefined));
    const custom = recordingWatcher(linuxSrc(await makeSysfsRoot()), { loadHotplug });
    await custom.watcher.start([]);
    const off = recordingWatcher({ ...linuxSrc('/sys') } as ProbeSources, { loadHotplug, hotplug: false });
    await off.watcher.start([]);
    expect(loadHotplug).not.toHaveBeenCalled();
  });
});

describe('UsbWatcher with hotplug events (Windows: each read runs PowerShell)', () => {
  const stickRecord = { PNPDeviceID: 'USB\\VID_0781&PID_5581\\A20054F50D478A23', Name: 'USB Mass Storage Device', CompatibleID: ['USB\\Class_08&SubClass_06&Prot_50'] };

  function fakeHotplug() {
    let emit: ((kind: 'add' | 'remove', d: HotplugDevice) => void) | undefined;
    const source: HotplugSource & { stopped: boolean } = {
      stopped: false,
      start: (cb) => (emit = cb),
      stop() {
        this.stopped = true;
      },
    };
    return { source, fire: (kind: 'add' | 'remove', d: HotplugDevice) => emit?.(kind, d) };
  }

  it('re-reads at once on an event instead of waiting for the slow safety poll', async () => {
    let listing: unknown[] = [];
    const runner = { run: vi.fn(() => Promise.resolve({ stdout: JSON.stringify(listing), stderr: '', code: 0 })) };
    const hot = fakeHotplug();
    const src = { platform: 'win32', sysfsRoot: '/sys', runner, log: silentLog } as unknown as ProbeSources;
    const { watcher, next } = recordingWatcher(src, { loadHotplug: () => Promise.resolve(hot.source) });
    await watcher.start([]);
    listing = [stickRecord];
    hot.fire('add', { vendorId: 0x0781, productId: 0x5581 });
    expect(await next('attached')).toMatchObject({ key: 'usb:0781:5581:A20054F50D478A23', interfaceClasses: ['08'] });
    await watcher.stop();
    expect(hot.source.stopped).toBe(true);
  });

  it('still reports a device that came and went before a read could list it, from the event', async () => {
    const runner = fakeRunner({ stdout: '[]' });
    const hot = fakeHotplug();
    const src = { platform: 'win32', sysfsRoot: '/sys', runner, log: silentLog } as unknown as ProbeSources;
    const { watcher, events, next } = recordingWatcher(src, { loadHotplug: () => Promise.resolve(hot.source) });
    await watcher.start([]);
    hot.fire('add', { vendorId: 0x2345, productId: 0x5432, deviceName: 'Composite Gadget (HID + MS)', serialNumber: '', locationId: 3 });
    await next('detached');
    expect(events.map((e) => [e.kind, e.device.key, e.device.busPath])).toEqual([
      ['attached', 'usb:2345:5432:', 'hotplug:3'],
      ['detached', 'usb:2345:5432:', 'hotplug:3'],
    ]);
  });

  it('keeps what it knew, reporting nothing, while the devices cannot be read', async () => {
    const runner = fakeRunner({ code: 1, stderr: 'WMI unavailable' });
    const src = { platform: 'win32', sysfsRoot: '/sys', runner, log: silentLog } as unknown as ProbeSources;
    const hot = fakeHotplug();
    const { watcher, events } = recordingWatcher(src, { loadHotplug: () => Promise.resolve(hot.source) });
    const known = { key: 'usb:0781:5581:A', vendorId: '0781', productId: '5581', serial: 'A', manufacturer: '', product: '', deviceClass: '00', interfaceClasses: ['08'], busPath: 'x', removable: 'unknown', isHub: false, isRootHub: false } as const;
    await watcher.start([{ ...known, interfaceClasses: ['08'] }]);
    hot.fire('remove', {});
    await vi.waitFor(() => expect(runner.calls.length).toBeGreaterThanOrEqual(2));
    expect(events).toEqual([]);
  });
});
