import { z } from 'zod';
import { HardwareFacts, LoggedInUser, NetworkAddress, OsFacts } from '../host-facts.js';
import { AgentCounters } from '../wire/agent-messages.js';
import { LIMITS } from '../limits.js';
import { ListQuery } from './list.js';

export const HostStatus = z.enum(['online', 'offline', 'silent', 'retired']);
export type HostStatus = z.infer<typeof HostStatus>;

export const Host = z.object({
  id: z.uuid(),
  hostname: z.string(),
  fqdn: z.string().nullable(),
  os: OsFacts.pick({ platform: true, distro: true, release: true, arch: true }).extend({
    kernel: z.string().nullable(),
  }),
  hardware: HardwareFacts,
  addresses: z.array(NetworkAddress),
  users: z.array(LoggedInUser),
  groups: z.array(z.string()),
  agentVersion: z.string().nullable(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string().nullable(),
  status: HostStatus,
  /** Why the host went offline, from its last goodbye (`shutdown`, `stop`, …). */
  lastGoodbye: z.string().nullable(),
  agent: z.object({
    id: z.uuid(),
    connected: z.boolean(),
    lastSeq: z.number().int(),
    messagesStored: z.number().int(),
    messagesRejected: z.number().int(),
    /** The agent's own counters from its last heartbeat. */
    counters: AgentCounters.nullable(),
    /**
     * What the agent dropped because its outbox was full, by message type, from its last heartbeat
     * (only heartbeats and session/screen-lock samples are ever dropped; `{}`: nothing).
     */
    droppedByType: z.record(z.string(), z.number().int()).nullable(),
  }),
});
export type Host = z.infer<typeof Host>;

/** A host in `GET /api/v1/hosts`: with its open (and acknowledged) alerts, in all and per rule. */
export const HostListItem = Host.extend({
  openAlerts: z.number().int(),
  openAlertsByRule: z.record(z.string(), z.number().int()),
});
export type HostListItem = z.infer<typeof HostListItem>;

export const HostListQuery = ListQuery.extend({
  status: HostStatus.optional(),
  /** Case-insensitive substring of the hostname. */
  q: z.string().max(LIMITS.hostname).optional(),
  platform: z.string().max(LIMITS.label).optional(),
  /** What the list is ordered by (ties by hostname, then id, in the same direction). */
  sort: z.enum(['hostname', 'lastSeen', 'openAlerts', 'agentVersion']).default('hostname'),
  order: z.enum(['asc', 'desc']).default('asc'),
});
export type HostListQuery = z.infer<typeof HostListQuery>;

export const HostIdParams = z.object({ id: z.uuid() });
export type HostIdParams = z.infer<typeof HostIdParams>;

/** What a probe last said about a host: `known` with a time, `unknown` with why, or `never` reported. */
const probeStatus = {
  status: z.enum(['known', 'unknown', 'never']),
  reason: z.string().nullable(),
  reportedAt: z.string().nullable(),
};

/**
 * `GET /api/v1/hosts/:id`: the host with its current facts as the policy in force judges them —
 * USB devices present and their recent attach/detach history, software with each item's catalogue
 * status, screen-lock settings (breaches and settings that could not be read), sessions.
 */
export const HostDetail = Host.extend({
  policyVersion: z.number().int(),
  openAlerts: z.number().int(),
  /** Exceptions in force that cover this host: breaches accepted for a while, and why. */
  exceptions: z.array(z.object({ id: z.string(), rule: z.string(), subject: z.string().nullable(), expiresAt: z.string(), reason: z.string(), createdBy: z.string() })),
  usb: z.object({
    ...probeStatus,
    present: z.array(z.record(z.string(), z.unknown())),
    history: z.array(z.object({ at: z.string(), event: z.enum(['attached', 'detached']), key: z.string(), busPath: z.string(), vendorId: z.string().nullable(), productId: z.string().nullable(), product: z.string().nullable() })),
  }),
  software: z.object({
    ...probeStatus,
    counts: z.record(z.string(), z.number().int()),
    items: z.array(z.record(z.string(), z.unknown())),
  }),
  screenlock: z.object({ ...probeStatus, settings: z.array(z.record(z.string(), z.unknown())), unknown: z.array(z.record(z.string(), z.unknown())) }),
  sessions: z.object({ ...probeStatus, sessions: z.array(z.record(z.string(), z.unknown())) }),
});
export type HostDetail = z.infer<typeof HostDetail>;
