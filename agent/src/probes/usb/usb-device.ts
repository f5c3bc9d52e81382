import type { UsbDevice } from '@vigil/shared/agent';
import { cleanText, hexId } from './untrusted-text.js';

export type Removable = UsbDevice['removable'];

/** What an OS parser read about one device, before it is normalised into a `UsbDevice`. */
export interface RawUsbDevice {
  vendorId: unknown;
  productId: unknown;
  serial?: unknown;
  manufacturer?: unknown;
  product?: unknown;
  /** bDeviceClass; `00` (defined by the interfaces) when the OS does not say. */
  deviceClass?: unknown;
  interfaceClasses: Iterable<unknown>;
  busPath: string;
  removable: Removable;
  isRootHub: boolean;
  /** Defaults to "device class is 09". */
  isHub?: boolean;
}

/** Longest bus path kept (the schema's `label`). */
const BUS_PATH_MAX = 128;

/**
 * Builds the reported device: ids validated and lowercased, untrusted strings cleaned and
 * capped, interface classes unique and sorted, the key `usb:<vid>:<pid>:<serial>`. Returns
 * `undefined` when the vendor or product id is unreadable: a device we cannot name is not
 * reported as a different one.
 */
export function toUsbDevice(raw: RawUsbDevice): UsbDevice | undefined {
  const vendorId = hexId(raw.vendorId, 4);
  const productId = hexId(raw.productId, 4);
  if (!vendorId || !productId) return undefined;
  const serial = cleanText(raw.serial);
  const deviceClass = hexId(raw.deviceClass, 2) ?? '00';
  const classes = new Set<string>();
  for (const c of raw.interfaceClasses) {
    const h = hexId(c, 2);
    if (h) classes.add(h);
  }
  return {
    key: `usb:${vendorId}:${productId}:${serial}`,
    vendorId,
    productId,
    serial,
    manufacturer: cleanText(raw.manufacturer),
    product: cleanText(raw.product),
    deviceClass,
    interfaceClasses: [...classes].sort().slice(0, 64),
    busPath: cleanText(raw.busPath, BUS_PATH_MAX),
    removable: raw.removable,
    isHub: raw.isHub ?? deviceClass === '09',
    isRootHub: raw.isRootHub,
  };
}

/** Stable identity used to diff device sets: the same device in the same place. */
export const deviceIdentity = (d: UsbDevice): string => `${d.busPath}\u0000${d.key}`;
