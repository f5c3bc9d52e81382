import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Builds sysfs-shaped trees in temp dirs from a JSON description of devices (taken from real
 * captures, see test/fixtures/linux/usb/SOURCES.md): each device directory under
 * `<root>/devices/...` holds one file per attribute (value + newline, as sysfs prints it), the
 * binary `descriptors`, and its interface directories; `<root>/bus/usb/devices/<name>` are
 * relative symlinks to them, as in the kernel.
 */
export interface SysfsDevice {
  /** Path under the sysfs root, e.g. `devices/pci0000:00/0000:00:1a.0/usb1/1-1`. */
  path: string;
  attrs: Record<string, string>;
  /** Hex of the raw descriptors file. */
  descriptors?: string;
  /** Interface directory name (`1-1:1.0`) to its attributes. */
  interfaces?: Record<string, Record<string, string>>;
}

export interface SysfsFixture {
  source: string;
  devices: SysfsDevice[];
}

export const linuxFixtureDir = new URL('../../../../../test/fixtures/linux/usb/', import.meta.url);

export async function loadSysfsFixture(name: string): Promise<SysfsFixture> {
  return JSON.parse(await fs.readFile(new URL(name, linuxFixtureDir), 'utf8')) as SysfsFixture;
}

const roots: string[] = [];

/** A fresh sysfs root with an empty `bus/usb/devices`. */
export async function makeSysfsRoot(): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-sysfs-'));
  roots.push(root);
  await fs.mkdir(path.join(root, 'bus', 'usb', 'devices'), { recursive: true });
  return root;
}

export async function removeSysfsRoots(): Promise<void> {
  await Promise.all(roots.splice(0).map((r) => fs.rm(r, { recursive: true, force: true })));
}

async function writeAttrs(dir: string, attrs: Record<string, string>): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await Promise.all(Object.entries(attrs).map(([k, v]) => fs.writeFile(path.join(dir, k), `${v}\n`)));
}

const busLink = (root: string, name: string) => path.join(root, 'bus', 'usb', 'devices', name);

/**
 * Adds one device. Its files are written first and its bus symlinks last, interfaces before
 * the device, so a reader polling meanwhile sees either nothing or the whole device.
 */
export async function addSysfsDevice(root: string, device: SysfsDevice): Promise<void> {
  const dir = path.join(root, device.path);
  await writeAttrs(dir, device.attrs);
  if (device.descriptors) await fs.writeFile(path.join(dir, 'descriptors'), Buffer.from(device.descriptors, 'hex'));
  const interfaces = Object.entries(device.interfaces ?? {});
  for (const [name, attrs] of interfaces) await writeAttrs(path.join(dir, name), attrs);
  const busDir = path.join(root, 'bus', 'usb', 'devices');
  for (const [name] of interfaces) await fs.symlink(path.relative(busDir, path.join(dir, name)), busLink(root, name));
  await fs.symlink(path.relative(busDir, dir), busLink(root, path.basename(dir)));
}

/** Removes one device the way an unplug does: its bus links first, then its directory. */
export async function removeSysfsDevice(root: string, device: SysfsDevice): Promise<void> {
  await fs.rm(busLink(root, path.basename(device.path)), { force: true });
  for (const name of Object.keys(device.interfaces ?? {})) await fs.rm(busLink(root, name), { force: true });
  await fs.rm(path.join(root, device.path), { recursive: true, force: true });
}

/** A sysfs root holding every device of the given fixtures. */
export async function buildSysfsTree(...fixtures: SysfsFixture[]): Promise<string> {
  const root = await makeSysfsRoot();
  for (const f of fixtures) for (const d of f.devices) await addSysfsDevice(root, d);
  return root;
}
