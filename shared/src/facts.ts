import { z } from 'zod';
import { LIMITS } from './limits.js';
import { hex2, hex4, isoTime, label, text } from './text.js';

/** A fact the agent could read (with where from), or `unknown` with why — never a guess. */
export const fact = <T extends z.ZodType>(value: T) =>
  z.discriminatedUnion('status', [
    z.object({ status: z.literal('known'), value, source: text(256) }),
    z.object({ status: z.literal('unknown'), reason: text(LIMITS.message) }),
  ]);

export const UsbDevice = z.object({
  /** `usb:<vendorId>:<productId>:<serial>`; serial may be empty. */
  key: text(512),
  vendorId: hex4(),
  productId: hex4(),
  serial: text(256),
  manufacturer: text(256),
  product: text(256),
  deviceClass: hex2(),
  interfaceClasses: z.array(hex2()).max(64),
  /** Bus/port path, e.g. `1-1.4`. */
  busPath: label(),
  removable: z.enum(['fixed', 'removable', 'unknown']),
  isHub: z.boolean(),
  isRootHub: z.boolean(),
});
export type UsbDevice = z.infer<typeof UsbDevice>;

export const SoftwareSource = z.enum(['dpkg', 'rpm', 'snap', 'flatpak', 'registry', 'appx', 'app', 'brew']);

export const SoftwareItem = z.object({
  name: text(512),
  version: text(256),
  publisher: text(512).optional(),
  source: SoftwareSource,
  installedAt: isoTime().optional(),
  arch: label().optional(),
});
export type SoftwareItem = z.infer<typeof SoftwareItem>;

export const ScreenlockSetting = z.object({
  user: label(),
  desktop: label().optional(),
  enabled: fact(z.boolean()),
  idleTimeoutSeconds: fact(z.number().int().min(0)),
  graceSeconds: fact(z.number().int().min(0)),
  passwordRequired: fact(z.boolean()),
});
export type ScreenlockSetting = z.infer<typeof ScreenlockSetting>;

export const SessionState = z.object({
  id: label(),
  user: label(),
  /** null when the OS does not say. */
  locked: z.boolean().nullable(),
  /** Idle beyond the configured threshold. */
  idle: z.boolean().nullable(),
  idleSince: isoTime().optional(),
  remote: z.boolean(),
  seat: label().optional(),
  type: label().optional(),
});
export type SessionState = z.infer<typeof SessionState>;

export const Unknown = z.object({ status: z.literal('unknown'), reason: text(LIMITS.message) });

/** Result of one probe: a list, or unknown with why. */
export const probeResult = <T extends z.ZodType>(item: T) =>
  z.union([z.array(item).max(LIMITS.listItems), Unknown]);
