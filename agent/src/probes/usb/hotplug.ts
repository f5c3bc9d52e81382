import type { ProbeSources } from '../probe.js';

/** What usb-detection reports with an add or remove event (no interface classes, no port type). */
export interface HotplugDevice {
  locationId?: number;
  vendorId?: number;
  productId?: number;
  deviceName?: string;
  manufacturer?: string;
  serialNumber?: string;
}

/** A source of attach/detach events; the watcher only uses them to re-read at once. */
export interface HotplugSource {
  /** Starts monitoring and calls `onChange` on every add or remove. */
  start(onChange: (kind: 'add' | 'remove', device: HotplugDevice) => void): void;
  /** Stops monitoring and removes the listeners, so the process can exit. */
  stop(): void;
}

/** The part of usb-detection's API used here (its own typings declare no way to remove listeners). */
interface UsbDetection {
  startMonitoring(): void;
  stopMonitoring(): void;
  on(event: string, listener: (device: HotplugDevice) => void): unknown;
  off?(event: string, listener: (device: HotplugDevice) => void): unknown;
  removeListener?(event: string, listener: (device: HotplugDevice) => void): unknown;
}

const isUsbDetection = (m: unknown): m is UsbDetection =>
  typeof m === 'object' &&
  m !== null &&
  typeof (m as UsbDetection).startMonitoring === 'function' &&
  typeof (m as UsbDetection).stopMonitoring === 'function' &&
  typeof (m as UsbDetection).on === 'function';

/**
 * Loads the optional native module `usb-detection`. It may be absent (not installed, no build
 * for this platform) or fail to load (missing libudev): the agent then works by polling alone,
 * so this returns `undefined` and logs why instead of throwing.
 */
export async function loadUsbDetection(log: ProbeSources['log']): Promise<HotplugSource | undefined> {
  let mod: unknown;
  try {
    // A variable specifier keeps bundlers and the type checker from requiring the module.
    const name = 'usb-detection';
    const imported = (await import(name)) as { default?: unknown };
    mod = imported.default ?? imported;
  } catch (err) {
    log.info({ err: (err as Error).message }, 'usb-detection unavailable; USB changes are found by polling');
    return undefined;
  }
  if (!isUsbDetection(mod)) {
    log.warn('usb-detection loaded without its monitoring API; USB changes are found by polling');
    return undefined;
  }
  const det = mod;
  let listeners: Array<[string, (d: HotplugDevice) => void]> = [];
  return {
    start(onChange) {
      listeners = [
        ['add', (d) => onChange('add', d)],
        ['remove', (d) => onChange('remove', d)],
      ];
      for (const [event, fn] of listeners) det.on(event, fn);
      det.startMonitoring();
    },
    stop() {
      for (const [event, fn] of listeners) (det.off ?? det.removeListener)?.call(det, event, fn);
      listeners = [];
      det.stopMonitoring();
    },
  };
}
