import { z } from 'zod';
import { LIMITS } from './limits.js';
import { label, text } from './text.js';

/** The values Node's `process.platform` takes. */
export const Platform = z.enum(['linux', 'win32', 'darwin', 'freebsd', 'openbsd', 'sunos', 'aix', 'android']);
export type Platform = z.infer<typeof Platform>;

export const OsFacts = z.object({
  platform: Platform,
  /** Distribution or product name, e.g. `Debian GNU/Linux`, `Microsoft Windows 11 Pro`, `macOS`. */
  distro: label(),
  /** Distribution release, e.g. `12`, `10.0.22631`, `14.5`. */
  release: label(),
  /** CPU architecture as Node names it (`x64`, `arm64`). */
  arch: label(),
  kernel: label().optional(),
  codename: label().optional(),
  build: label().optional(),
});
export type OsFacts = z.infer<typeof OsFacts>;

export const HardwareFacts = z.object({
  /** OS installation id (machine-id on Linux, MachineGuid on Windows, IOPlatformUUID on macOS). */
  machineId: label().optional(),
  /** SMBIOS system UUID where readable (root on Linux), else absent. */
  uuid: label().optional(),
  serial: label().optional(),
  manufacturer: label().optional(),
  model: label().optional(),
  virtual: z.boolean().optional(),
});
export type HardwareFacts = z.infer<typeof HardwareFacts>;

export const NetworkAddress = z.object({
  iface: label(),
  family: z.enum(['ipv4', 'ipv6']),
  address: z.union([z.ipv4(), z.ipv6()]),
  mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/).optional(),
});
export type NetworkAddress = z.infer<typeof NetworkAddress>;

/** Who is logged in (name, terminal, since when, from where); never what they are doing. */
export const LoggedInUser = z.object({
  name: label(),
  tty: label().optional(),
  /** Login time as the OS reports it, ISO 8601 where it could be parsed. */
  since: label().optional(),
  remoteHost: text(LIMITS.hostname).optional(),
});
export type LoggedInUser = z.infer<typeof LoggedInUser>;

export const HostFacts = z.object({
  hostname: z.string().min(1).max(LIMITS.hostname),
  fqdn: text(LIMITS.hostname).optional(),
  os: OsFacts,
  hardware: HardwareFacts.default({}),
  /** Primary (non-internal) addresses. */
  addresses: z.array(NetworkAddress).max(LIMITS.addresses).default([]),
  users: z.array(LoggedInUser).max(LIMITS.users).default([]),
  timezone: label().optional(),
  agentVersion: label(),
});
export type HostFacts = z.infer<typeof HostFacts>;
