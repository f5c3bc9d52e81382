/**
 * USB devices probe: what is plugged in (with every interface class, so a stick that is also a
 * keyboard is seen as both), as a snapshot and then as attach/detach events.
 *
 * - Linux: sysfs under `<sysfsRoot>/bus/usb/devices` (`linux.ts`).
 * - Windows: PnP devices via PowerShell (`win32.ts`).
 * - macOS: the IOUSB registry plane via `ioreg -a` (`darwin.ts`).
 */
export { readUsbDevices } from './read-usb-devices.js';
export { UsbWatcher, type UsbWatcherOptions } from './watcher.js';
export type { HotplugDevice, HotplugSource } from './hotplug.js';
