import { z } from 'zod';
import { uuidv7 } from '../ids.js';
import { PROTOCOL_VERSION } from '../protocol-version.js';
import { epochMs } from '../text.js';
import { AGENT_MESSAGE_BODIES, type AgentMessageBody, type AgentMessageType } from './agent-messages.js';
import { COLLECTOR_MESSAGE_BODIES, type CollectorMessageBody, type CollectorMessageType } from './collector-messages.js';

/**
 * Every frame is one JSON envelope `{v, type, id, seq, ts, body}`. The raw envelope is checked
 * first (so a bad body can still be acknowledged as rejected by its seq), then the body against
 * the schema of its type.
 */
export const RawEnvelope = z.object({
  v: z.number().int().min(0),
  type: z.string().min(1).max(64),
  id: z.uuid(),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  ts: epochMs(),
  body: z.unknown(),
});
export type RawEnvelope = z.infer<typeof RawEnvelope>;

export interface Envelope<T extends string, B> {
  v: number;
  type: T;
  id: string;
  seq: number;
  ts: number;
  body: B;
}

export type AgentEnvelope<T extends AgentMessageType = AgentMessageType> = {
  [K in T]: Envelope<K, AgentMessageBody<K>>;
}[T];

export type CollectorEnvelope<T extends CollectorMessageType = CollectorMessageType> = {
  [K in T]: Envelope<K, CollectorMessageBody<K>>;
}[T];

export function agentEnvelope<T extends AgentMessageType>(
  type: T,
  seq: number,
  body: AgentMessageBody<T>,
  now: number = Date.now(),
): AgentEnvelope<T> {
  return { v: PROTOCOL_VERSION, type, id: uuidv7(now), seq, ts: now, body } as AgentEnvelope<T>;
}

export function collectorEnvelope<T extends CollectorMessageType>(
  type: T,
  seq: number,
  body: CollectorMessageBody<T>,
  now: number = Date.now(),
): CollectorEnvelope<T> {
  return { v: PROTOCOL_VERSION, type, id: uuidv7(now), seq, ts: now, body } as CollectorEnvelope<T>;
}

export function agentBodySchema(type: AgentMessageType) {
  return AGENT_MESSAGE_BODIES[type];
}

export function collectorBodySchema(type: CollectorMessageType) {
  return COLLECTOR_MESSAGE_BODIES[type];
}
