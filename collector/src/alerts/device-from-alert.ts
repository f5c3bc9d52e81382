import type { UsbDevice } from '@vigil/shared';
import type { AlertRow } from '../db/alerts-repository.js';

/** The device an open usb.unauthorised alert is about, rebuilt from its details (for a device no longer attached). */
export function deviceFromAlert(a: AlertRow): UsbDevice | undefined {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(a.details) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  // The engine wrote these details from a valid device: check the shape cheaply rather than with zod.
  const str = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  const vendorId = str('vendorId');
  const productId = str('productId');
  const interfaceClasses = Array.isArray(d.interfaceClasses) ? d.interfaceClasses.filter((c): c is string => typeof c === 'string') : undefined;
  const removable = str('removable');
  if (!vendorId || !productId || !interfaceClasses || (removable !== 'fixed' && removable !== 'removable' && removable !== 'unknown')) return undefined;
  const busPaths = Array.isArray(d.busPaths) ? d.busPaths : [];
  return {
    key: a.subject,
    vendorId,
    productId,
    serial: str('serial') ?? '',
    manufacturer: str('manufacturer') ?? '',
    product: str('product') ?? '',
    deviceClass: str('deviceClass') ?? '00',
    interfaceClasses,
    busPath: typeof busPaths[0] === 'string' ? busPaths[0] : '',
    removable,
    isHub: d.isHub === true,
    isRootHub: d.isRootHub === true,
  };
}
