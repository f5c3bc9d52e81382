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
  }),
});
export type Host = z.infer<typeof Host>;

export const HostListQuery = ListQuery.extend({
  status: HostStatus.optional(),
  /** Case-insensitive substring of the hostname. */
  q: z.string().max(LIMITS.hostname).optional(),
  platform: z.string().max(LIMITS.label).optional(),
});
export type HostListQuery = z.infer<typeof HostListQuery>;

export const HostIdParams = z.object({ id: z.uuid() });
export type HostIdParams = z.infer<typeof HostIdParams>;
