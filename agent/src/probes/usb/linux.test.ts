import fs from 'node:fs/promises';
import path from 'node:path';
import { UsbDevice } from '@vigil/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { isUnknown } from '../probe.js';
import { readLinuxUsb, SysfsUsbScanner } from './linux.js';
import {
  addSysfsDevice,
  buildSysfsTree,
  loadSysfsFixture,
  makeSysfsRoot,
  removeSysfsRoots,
  type SysfsDevice,
} from './test-support/sysfs-tree.js';

afterEach(removeSysfsRoots);

async function read(root: string): Promise<UsbDevice[]> {
  const out = await readLinuxUsb(root);
  if (isUnknown(out)) throw new Error(out.reason);
  for (const d of out) UsbDevice.parse(d);
  return out;
}

const byPath = (devices: UsbDevice[], busPath: string): UsbDevice => {
  const d = devices.find((x) => x.busPath === busPath);
  if (!d) throw new Error(`no device at ${busPath}: ${devices.map((x) => x.busPath).join(', ')}`);
  return d;
};

describe('linux sysfs USB reader on real captures', () => {
  it('reads a keyboard with no serial behind three hubs and the root hub (umockdev capture)', async () => {
    const devices = await read(await buildSysfsTree(await loadSysfsFixture('kinesis-keyboard.json')));
    expect(devices.map((d) => d.busPath)).toEqual(['1-1', '1-1.5', '1-1.5.4', '1-1.5.4.2', 'usb1']);
    expect(byPath(devices, '1-1.5.4.2')).toEqual({
      key: 'usb:05f3:0007:',
      vendorId: '05f3',
      productId: '0007',
      serial: '',
      manufacturer: '',
      product: '',
      deviceClass: '00',
      // Interface 0 has a directory in the capture; interface 1 is only in the descriptors.
      interfaceClasses: ['03'],
      busPath: '1-1.5.4.2',
      removable: 'unknown',
      isHub: false,
      isRootHub: false,
    });
    expect(byPath(devices, 'usb1')).toMatchObject({
      key: 'usb:1d6b:0002:0000:00:1a.0',
      product: 'EHCI Host Controller',
      manufacturer: 'Linux 3.10.0-2-generic ehci_hcd',
      isHub: true,
      isRootHub: true,
      interfaceClasses: ['09'],
    });
    // The board's built-in rate-matching hub is fixed; the dock's hub is removable.
    expect(byPath(devices, '1-1')).toMatchObject({ vendorId: '8087', removable: 'fixed', isHub: true, isRootHub: false });
    expect(byPath(devices, '1-1.5')).toMatchObject({ vendorId: '17ef', removable: 'removable', isHub: true });
    expect(byPath(devices, '1-1.5.4')).toMatchObject({ product: 'Kinesis Keyboard Hub', manufacturer: 'PI Engineering' });
  });

  it('reads a mass-storage stick from a udevadm attribute walk: interface 08, untrimmed strings trimmed', async () => {
    const devices = await read(await buildSysfsTree(await loadSysfsFixture('sandisk-stick.json')));
    const stick = byPath(devices, '1-1.2');
    expect(stick).toMatchObject({
      vendorId: '0781',
      productId: '5581',
      manufacturer: 'USB',
      product: 'SanDisk 3.2Gen1',
      interfaceClasses: ['08'],
      deviceClass: '00',
      removable: 'unknown',
      isHub: false,
    });
    const serial = '0101287b9ee652db333a1560368abfae4422b1627bbda1aa660dfd4eb912a25474d10000000000000000000058462866008b2a0081558107a7295366';
    expect(stick.serial).toBe(serial);
    expect(stick.key).toBe(`usb:0781:5581:${serial}`);
    // No descriptors and no interface directories were captured for the hubs: no classes, not a guess.
    expect(byPath(devices, '1-1').interfaceClasses).toEqual([]);
  });

  it('sees both HID and mass storage on a composite keyboard-and-storage gadget', async () => {
    const devices = await read(await buildSysfsTree(await loadSysfsFixture('hid-storage-gadget.json')));
    expect(byPath(devices, '1-1.3')).toMatchObject({
      key: 'usb:2345:5432:',
      deviceClass: 'ef',
      interfaceClasses: ['03', '08'],
      product: 'Composite Gadget (HID + MS)',
      removable: 'unknown',
    });
  });

  it('reads a phone (vendor-specific MTP interface) behind a hub', async () => {
    const devices = await read(await buildSysfsTree(await loadSysfsFixture('sony-xperia-phone.json')));
    expect(byPath(devices, '1-1.5.2.4')).toMatchObject({ key: 'usb:0fce:0166:0123456789ABCDEF', interfaceClasses: ['ff'] });
    expect(byPath(devices, '1-1.5.2')).toMatchObject({ product: 'USB2.0 Hub Controller', isHub: true, interfaceClasses: ['09'] });
  });

  it('takes interface classes from the descriptors before the interface directories exist', async () => {
    const [gadget] = (await loadSysfsFixture('hid-storage-gadget.json')).devices;
    if (!gadget) throw new Error('fixture is empty');
    const devices = await read(await buildSysfsTree({ source: 'test', devices: [{ ...gadget, interfaces: {} }] }));
    expect(devices[0]?.interfaceClasses).toEqual(['03', '08']);
  });
});

describe('linux sysfs USB reader on untrusted and broken input', () => {
  const hostile: SysfsDevice = {
    path: 'devices/pci0000:00/0000:00:14.0/usb3/3-2',
    attrs: {
      idVendor: '1234',
      idProduct: 'ABCD',
      manufacturer: 'Evil\u0007\u001b[31m Corp\u202e',
      product: 'x'.repeat(5000),
      serial: '<script>alert(1)</script>',
      bDeviceClass: '00',
      removable: 'sideways',
    },
    interfaces: { '3-2:1.0': { bInterfaceClass: '03' }, '3-2:1.1': { bInterfaceClass: 'zz' } },
  };

  it('strips control characters, caps length, keeps markup as inert text and rejects bad values', async () => {
    const root = await makeSysfsRoot();
    await addSysfsDevice(root, hostile);
    const [d] = await read(root);
    expect(d).toMatchObject({
      vendorId: '1234',
      productId: 'abcd',
      manufacturer: 'Evil[31m Corp',
      serial: '<script>alert(1)</script>',
      interfaceClasses: ['03'],
      removable: 'unknown',
    });
    expect(d?.product).toHaveLength(256);
  });

  it('skips a device whose ids cannot be read, and interface directories, without failing', async () => {
    const root = await makeSysfsRoot();
    await addSysfsDevice(root, hostile);
    await addSysfsDevice(root, { path: 'devices/pci0000:00/0000:00:14.0/usb3/3-3', attrs: { idVendor: 'nothex!' } });
    const devices = await read(root);
    expect(devices.map((d) => d.busPath)).toEqual(['3-2']);
  });

  it('survives a device vanishing between the listing and the read', async () => {
    const root = await makeSysfsRoot();
    await addSysfsDevice(root, hostile);
    // A dangling bus link is what a device unplugged mid-read leaves behind.
    await fs.symlink('../../../devices/gone/3-9', path.join(root, 'bus/usb/devices/3-9'));
    expect((await read(root)).map((d) => d.busPath)).toEqual(['3-2']);
  });

  it('is unknown, with why, when the sysfs root has no USB bus', async () => {
    const out = await readLinuxUsb(await fs.mkdtemp(path.join((await makeSysfsRoot()), 'empty-')));
    expect(isUnknown(out) && out.reason).toMatch(/no USB bus in sysfs: .*bus\/usb\/devices does not exist/);
  });

  it('re-reads only devices whose directory changed', async () => {
    const root = await makeSysfsRoot();
    await addSysfsDevice(root, hostile);
    const scanner = new SysfsUsbScanner(root);
    await scanner.scan();
    // Rewriting an attribute in place does not change the directory: the cached device is kept.
    await fs.writeFile(path.join(root, hostile.path, 'serial'), 'changed\n');
    const again = await scanner.scan();
    expect(!isUnknown(again) && again[0]?.serial).toBe('<script>alert(1)</script>');
    // Replugging (a new directory; the old one still exists, so the inode cannot be reused) is read afresh.
    for (const link of ['3-2', '3-2:1.0', '3-2:1.1']) await fs.rm(path.join(root, 'bus/usb/devices', link));
    const replugged = { ...hostile, path: `${hostile.path}-replugged/3-2`, attrs: { ...hostile.attrs, serial: 'NEW' } };
    await addSysfsDevice(root, replugged);
    await fs.rm(path.join(root, hostile.path), { recursive: true });
    const fresh = await scanner.scan();
    expect(!isUnknown(fresh) && fresh[0]?.serial).toBe('NEW');
  });
});
