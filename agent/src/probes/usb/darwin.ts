import type { UsbDevice } from '@vigil/shared/agent';
import { unknown, type ProbeOutcome, type ProbeSources } from '../probe.js';
import { parsePlist, type PlistDict, type PlistValue } from './ioreg-plist.js';
import { toUsbDevice, type Removable } from './usb-device.js';

/** The command the agent runs on macOS: the IOUSB plane (USB devices only), every property, as XML. */
export const IOREG_COMMAND = { file: '/usr/sbin/ioreg', args: ['-p', 'IOUSB', '-l', '-w0', '-a'] } as const;

/** IOUSBHostFamily's port types (`USBPortType`): 0 a standard external port, 2 internal. */
const PORT_STANDARD = 0;
const PORT_INTERNAL = 2;

const isDict = (v: PlistValue | undefined): v is PlistDict => v instanceof Map;
const num = (v: PlistValue | undefined): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
const str = (d: PlistDict, ...keys: string[]): string | undefined =>
  keys.map((k) => d.get(k)).find((v): v is string => typeof v === 'string');

/**
 * Interface classes from `UsbDeviceSignature` (macOS 11 and later): idVendor, idProduct and
 * bcdDevice (little-endian), the serial number's bytes, then bDeviceClass/SubClass/Protocol and
 * one class/subclass/protocol triple per interface of the active configuration.
 */
export function signatureInterfaceClasses(sig: Uint8Array, serial: string, deviceTriple: readonly number[]): number[] | undefined {
  const serialBytes = new TextEncoder().encode(serial);
  const matchesAt = (n: number): boolean =>
    n >= 0 && 6 + n + 3 <= sig.length && (sig.length - 6 - n) % 3 === 0 && deviceTriple.every((b, k) => sig[6 + n + k] === b);
  let n = serialBytes.every((b, k) => sig[6 + k] === b) && matchesAt(serialBytes.length) ? serialBytes.length : -1;
  // The serial property may have been re-encoded: find where the device triple sits instead.
  for (let k = 0; n < 0 && 6 + k + 3 <= sig.length; k++) if (matchesAt(k)) n = k;
  if (n < 0) return undefined;
  const classes: number[] = [];
  for (let i = 6 + n + 3; i + 3 <= sig.length; i += 3) classes.push(sig[i] ?? 0);
  return classes;
}

function removableOf(portType: number | undefined): Removable {
  if (portType === PORT_STANDARD) return 'removable';
  if (portType === PORT_INTERNAL) return 'fixed';
  return 'unknown';
}

function toDevice(d: PlistDict, hasChildDevices: boolean): UsbDevice | undefined {
  const serial = str(d, 'USB Serial Number', 'kUSBSerialNumberString') ?? '';
  const deviceClass = num(d.get('bDeviceClass'));
  const triple = [deviceClass, num(d.get('bDeviceSubClass')), num(d.get('bDeviceProtocol'))];
  const sig = d.get('UsbDeviceSignature');
  const classes =
    sig instanceof Uint8Array && triple.every((t) => t !== undefined)
      ? (signatureInterfaceClasses(sig, serial, triple as number[]) ?? [])
      : [];
  const location = num(d.get('locationID'));
  return toUsbDevice({
    vendorId: num(d.get('idVendor')),
    productId: num(d.get('idProduct')),
    serial,
    manufacturer: str(d, 'USB Vendor Name', 'kUSBVendorString'),
    product: str(d, 'USB Product Name', 'kUSBProductString', 'IORegistryEntryName'),
    deviceClass,
    interfaceClasses: classes,
    busPath: location === undefined ? '' : `0x${location.toString(16).padStart(8, '0')}`,
    removable: removableOf(num(d.get('USBPortType'))),
    isRootHub: false,
    isHub: deviceClass === 9 || hasChildDevices,
  });
}

const isUsbDevice = (d: PlistDict): boolean => num(d.get('idVendor')) !== undefined && num(d.get('idProduct')) !== undefined;

/**
 * Walks the IOUSB plane: every registry entry with an idVendor and idProduct is a device; one
 * with devices below it is a hub. macOS shows no root-hub devices in this plane (the host
 * controllers sit at the top), so none is reported as one.
 */
export function parseIoregUsb(xml: string): UsbDevice[] {
  const out: UsbDevice[] = [];
  const walk = (v: PlistValue): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!isDict(v)) return;
    const kids = v.get('IORegistryEntryChildren');
    const list = Array.isArray(kids) ? kids : [];
    if (isUsbDevice(v)) {
      const device = toDevice(v, list.some((k) => isDict(k) && isUsbDevice(k)));
      if (device) out.push(device);
    }
    list.forEach(walk);
  };
  walk(parsePlist(xml));
  return out;
}

export async function readDarwinUsb(src: Pick<ProbeSources, 'runner'>): Promise<ProbeOutcome<UsbDevice>> {
  const res = await src.runner.run(IOREG_COMMAND.file, IOREG_COMMAND.args, { timeoutMs: 15_000 });
  if (res.error === 'not-found') return unknown(`${IOREG_COMMAND.file} not found: cannot read the USB registry`);
  if (res.error || res.code !== 0) return unknown(`ioreg failed (${res.error ?? `exit ${res.code}`}): ${res.stderr.trim().slice(0, 500)}`);
  try {
    return parseIoregUsb(res.stdout);
  } catch (err) {
    return unknown(`ioreg printed an unreadable property list: ${(err as Error).message}`);
  }
}
