import fs from 'node:fs/promises';
import path from 'node:path';
import type { UsbDevice } from '@vigil/shared/agent';
import { unknown, type ProbeOutcome } from '../probe.js';
import { interfaceClassesOf, parseDescriptors } from './usb-descriptors.js';
import { toUsbDevice, type Removable } from './usb-device.js';

/** `usb1` (a root hub) or `1-1.4` (bus 1, port 1, then port 4 of the hub there). */
const DEVICE_NAME = /^(?:usb\d+|\d+-\d+(?:\.\d+)*)$/;
/** `1-1.4:1.0` (configuration 1, interface 0); a root hub's interfaces are `1-0:1.0`. */
const INTERFACE_NAME = /^(\d+)-([\d.]+):\d+\.\d+$/;

/** The device directory an interface directory belongs to. */
function ownerOf(iface: string): string | undefined {
  const m = INTERFACE_NAME.exec(iface);
  if (!m) return undefined;
  return m[2] === '0' ? `usb${m[1]}` : `${m[1]}-${m[2]}`;
}

/** One sysfs attribute, trimmed; `undefined` when missing or unreadable (the device may be gone). */
async function attr(dir: string, name: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(path.join(dir, name), 'utf8')).replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

async function binaryAttr(dir: string, name: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(path.join(dir, name));
  } catch {
    return undefined;
  }
}

function removableOf(value: string | undefined): Removable {
  const v = value?.trim();
  return v === 'removable' || v === 'fixed' ? v : 'unknown';
}

/**
 * Reads one device directory. Everything in it is untrusted and may vanish mid-read (the
 * device is unplugged): an unreadable attribute is treated as absent, and a device whose ids
 * cannot be read is skipped rather than reported wrongly.
 */
async function readDevice(busDir: string, name: string, interfaces: readonly string[]): Promise<UsbDevice | undefined> {
  const dir = path.join(busDir, name);
  const [vendorId, productId, serial, manufacturer, product, deviceClass, removable, config, descriptors, ifaceClasses] =
    await Promise.all([
      attr(dir, 'idVendor'),
      attr(dir, 'idProduct'),
      attr(dir, 'serial'),
      attr(dir, 'manufacturer'),
      attr(dir, 'product'),
      attr(dir, 'bDeviceClass'),
      attr(dir, 'removable'),
      attr(dir, 'bConfigurationValue'),
      binaryAttr(dir, 'descriptors'),
      Promise.all(interfaces.map((i) => attr(path.join(busDir, i), 'bInterfaceClass'))),
    ]);
  const summary = descriptors ? parseDescriptors(descriptors) : undefined;
  const active = config !== undefined && /^\s*\d+\s*$/.test(config) ? Number(config) : undefined;
  const fromDescriptors = summary ? interfaceClassesOf(summary, active) : [];
  return toUsbDevice({
    vendorId: vendorId?.trim(),
    productId: productId?.trim(),
    serial,
    manufacturer,
    product,
    deviceClass: deviceClass?.trim() ?? summary?.deviceClass,
    interfaceClasses: [...ifaceClasses.map((c) => c?.trim()), ...fromDescriptors],
    busPath: name,
    removable: removableOf(removable),
    isRootHub: name.startsWith('usb'),
  });
}

/**
 * Reads USB devices from `<sysfsRoot>/bus/usb/devices`. It keeps what it read last time: a
 * device whose directory (inode and times) and interface list are unchanged is not read again,
 * so a poll of a steady machine costs one directory listing and one `stat` per device.
 */
export class SysfsUsbScanner {
  private readonly busDir: string;
  private cache = new Map<string, { signature: string; device: UsbDevice | undefined }>();

  constructor(sysfsRoot: string) {
    this.busDir = path.join(sysfsRoot, 'bus', 'usb', 'devices');
  }

  async scan(): Promise<ProbeOutcome<UsbDevice>> {
    let names: string[];
    try {
      names = await fs.readdir(this.busDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return unknown(
        code === 'ENOENT'
          ? `no USB bus in sysfs: ${this.busDir} does not exist (no USB host controller, or sysfs not mounted there)`
          : `cannot list ${this.busDir}: ${code ?? (err as Error).message}`,
      );
    }
    const interfaces = new Map<string, string[]>();
    const devices: string[] = [];
    for (const n of names) {
      if (DEVICE_NAME.test(n)) devices.push(n);
      const owner = ownerOf(n);
      if (owner) interfaces.set(owner, [...(interfaces.get(owner) ?? []), n]);
    }
    const next = new Map<string, { signature: string; device: UsbDevice | undefined }>();
    await Promise.all(
      devices.map(async (name) => {
        const st = await fs.stat(path.join(this.busDir, name)).catch(() => undefined);
        if (!st) return; // unplugged between the listing and now
        const ifaces = (interfaces.get(name) ?? []).sort();
        const signature = `${st.ino}:${st.ctimeMs}:${st.mtimeMs}|${ifaces.join(',')}`;
        const cached = this.cache.get(name);
        const device = cached?.signature === signature ? cached.device : await readDevice(this.busDir, name, ifaces);
        // An unreadable device is read again next time rather than remembered as nothing.
        next.set(name, { signature: device ? signature : '', device });
      }),
    );
    this.cache = next;
    return [...next.values()]
      .flatMap((e) => (e.device ? [e.device] : []))
      .sort((a, b) => a.busPath.localeCompare(b.busPath));
  }
}

/** One full read of the USB devices under a sysfs root. */
export function readLinuxUsb(sysfsRoot: string): Promise<ProbeOutcome<UsbDevice>> {
  return new SysfsUsbScanner(sysfsRoot).scan();
}
