/**
 * Reads the raw descriptors Linux exposes in sysfs (`/sys/bus/usb/devices/<dev>/descriptors`):
 * the 18-byte device descriptor followed by every configuration's descriptors. The file is
 * complete as soon as the device directory appears, before the interface directories are
 * created, so it closes the window in which a freshly attached stick would look interface-less.
 */

const DEVICE_DESCRIPTOR = 1;
const CONFIG_DESCRIPTOR = 2;
const INTERFACE_DESCRIPTOR = 4;

export interface DescriptorSummary {
  /** bDeviceClass from the device descriptor. */
  deviceClass: number;
  /** Interface classes (every alternate setting) per bConfigurationValue. */
  configs: Map<number, Set<number>>;
}

/** Parses the descriptor blob; `undefined` when it does not start with a device descriptor. */
export function parseDescriptors(raw: Uint8Array): DescriptorSummary | undefined {
  if (raw.length < 18 || raw[0] !== 18 || raw[1] !== DEVICE_DESCRIPTOR) return undefined;
  const configs = new Map<number, Set<number>>();
  let current: Set<number> | undefined;
  for (let i = 18; i + 2 <= raw.length; ) {
    const len = raw[i] ?? 0;
    const type = raw[i + 1];
    // A zero or overlong length is a truncated or malformed blob: keep what was read so far.
    if (len < 2 || i + len > raw.length) break;
    if (type === CONFIG_DESCRIPTOR && len >= 9) {
      const value = raw[i + 5] ?? 0;
      current = configs.get(value) ?? new Set<number>();
      configs.set(value, current);
    } else if (type === INTERFACE_DESCRIPTOR && len >= 9 && current) {
      current.add(raw[i + 5] ?? 0);
    }
    i += len;
  }
  return { deviceClass: raw[4] ?? 0, configs };
}

/**
 * Interface classes of the active configuration, or of every configuration when the active
 * one is not known (an unconfigured device could be switched to any of them).
 */
export function interfaceClassesOf(summary: DescriptorSummary, activeConfig: number | undefined): number[] {
  const active = activeConfig === undefined ? undefined : summary.configs.get(activeConfig);
  const sets = active ? [active] : [...summary.configs.values()];
  return [...new Set(sets.flatMap((s) => [...s]))].sort((a, b) => a - b);
}
