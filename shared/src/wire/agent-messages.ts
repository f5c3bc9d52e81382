import { z } from 'zod';
import { HostFacts } from '../host-facts.js';
import { probeResult, ScreenlockSetting, SessionState, SoftwareItem, UsbDevice } from '../facts.js';
import { LIMITS } from '../limits.js';
import { label, text } from '../text.js';

/** Bodies of the messages an agent sends, one schema per message type. */

export const HelloBody = z.object({
  protocolVersion: z.number().int().min(0),
  agentVersion: label(),
  /** The agent's own idea of who it is; must agree with its token. */
  agentId: z.uuid(),
  hostId: z.uuid().optional(),
  /** Where the agent's outbox stands, so the collector can tell a gap from a loss. */
  lastSeq: z.number().int().min(0).optional(),
  /**
   * A random id the agent process picks at start (optional: older agents send none). Two processes
   * using one token at once (a cloned machine image) show as two instance ids taking turns.
   */
  instanceId: z.uuid().optional(),
});

export const SnapshotBody = z.object({
  host: HostFacts,
  usb: probeResult(UsbDevice).optional(),
  software: probeResult(SoftwareItem).optional(),
  screenlock: probeResult(ScreenlockSetting).optional(),
  sessions: probeResult(SessionState).optional(),
});

export const UsbAttachedBody = z.object({ device: UsbDevice, present: z.boolean().default(false) });
export const UsbDetachedBody = z.object({ key: text(512), busPath: label(), device: UsbDevice.optional() });

export const SoftwareChangedBody = z.object({
  installed: z.array(SoftwareItem).max(LIMITS.listItems).default([]),
  removed: z.array(SoftwareItem).max(LIMITS.listItems).default([]),
  upgraded: z.array(z.object({ from: SoftwareItem, to: SoftwareItem })).max(LIMITS.listItems).default([]),
});

export const ScreenlockStateBody = z.object({ settings: probeResult(ScreenlockSetting) });
export const SessionStateBody = z.object({ sessions: probeResult(SessionState) });

export const AgentCounters = z.object({
  produced: z.number().int().min(0),
  sent: z.number().int().min(0),
  acknowledged: z.number().int().min(0),
  rejected: z.number().int().min(0),
  dropped: z.number().int().min(0),
});
export type AgentCounters = z.infer<typeof AgentCounters>;

export const HeartbeatBody = z.object({
  counters: AgentCounters,
  /** Dropped messages by type (only low-value types are ever dropped). */
  droppedByType: z.record(label(), z.number().int().min(0)).default({}),
  outbox: z.object({ pending: z.number().int().min(0), bytes: z.number().int().min(0) }),
  uptimeSeconds: z.number().min(0),
  rssBytes: z.number().int().min(0).optional(),
});

export const GoodbyeReason = z.enum(['shutdown', 'sleep', 'stop', 'uninstall']);
export const GoodbyeBody = z.object({ reason: GoodbyeReason });

export const CommandResultBody = z.object({
  commandId: z.uuid(),
  kind: label(),
  status: z.enum(['ok', 'error']),
  message: text(LIMITS.message).optional(),
});

export const AGENT_MESSAGE_BODIES = {
  hello: HelloBody,
  snapshot: SnapshotBody,
  'usb.attached': UsbAttachedBody,
  'usb.detached': UsbDetachedBody,
  'software.changed': SoftwareChangedBody,
  'screenlock.state': ScreenlockStateBody,
  'session.state': SessionStateBody,
  heartbeat: HeartbeatBody,
  goodbye: GoodbyeBody,
  'command.result': CommandResultBody,
} as const;

export type AgentMessageType = keyof typeof AGENT_MESSAGE_BODIES;
export const AGENT_MESSAGE_TYPES = Object.keys(AGENT_MESSAGE_BODIES) as AgentMessageType[];
export type AgentMessageBody<T extends AgentMessageType> = z.infer<(typeof AGENT_MESSAGE_BODIES)[T]>;

export function isAgentMessageType(t: string): t is AgentMessageType {
  return Object.hasOwn(AGENT_MESSAGE_BODIES, t);
}

/**
 * Messages the outbox may drop when it overflows, lowest value first. USB and software events
 * are never dropped.
 */
export const DROPPABLE_TYPES: readonly AgentMessageType[] = ['heartbeat', 'session.state', 'screenlock.state'];
