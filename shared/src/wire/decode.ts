import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import { isSupportedProtocolVersion } from '../protocol-version.js';
import { summariseIssues } from '../zod-issues.js';
import { AGENT_MESSAGE_BODIES, type AgentMessageType } from './agent-messages.js';
import { COLLECTOR_MESSAGE_BODIES, type CollectorMessageType } from './collector-messages.js';
import { RawEnvelope, type AgentEnvelope, type CollectorEnvelope } from './envelope.js';

export type DecodeFailure = {
  ok: false;
  code: ErrorCode;
  reason: string;
  /** What could be read of the envelope, so a rejection can name the message. */
  seq?: number;
  id?: string;
  type?: string;
};
export type Decoded<E> = { ok: true; envelope: E } | DecodeFailure;

/** A UUID of versions 1–8 in its usual form: a subset of what `z.uuid()` (RawEnvelope's `id`) accepts. */
const PLAIN_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const MAX_EPOCH_MS = 8_640_000_000_000_000;

/**
 * The envelope exactly as `RawEnvelope.safeParse` returns it for the common, plainly valid frame,
 * checked by hand (every frame pays for this, and zod is the larger part of decoding a small
 * one); undefined for anything else, which zod then judges and explains. Accepts only what
 * RawEnvelope accepts.
 */
function plainEnvelope(json: unknown): RawEnvelope | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const { v, type, id, seq, ts, body } = json as Record<string, unknown>;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return undefined;
  if (typeof type !== 'string' || type.length < 1 || type.length > 64) return undefined;
  if (typeof id !== 'string' || !PLAIN_UUID.test(id)) return undefined;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0 || ts > MAX_EPOCH_MS) return undefined;
  if (body === undefined) return undefined;
  return { v, type, id, seq, ts, body };
}

function decode<E>(data: string, bodies: Record<string, z.ZodType>): Decoded<E> {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    // Also catches RangeError from pathologically deep nesting.
    return { ok: false, code: 'VIGIL_ERR_FRAME_NOT_JSON', reason: 'frame is not valid JSON' };
  }
  const plain = plainEnvelope(json);
  const raw = plain ? { success: true as const, data: plain } : RawEnvelope.safeParse(json);
  if (!raw.success) {
    const partial = json as { seq?: unknown; id?: unknown };
    const seq = typeof partial?.seq === 'number' && Number.isSafeInteger(partial.seq) && partial.seq >= 0 ? partial.seq : undefined;
    return { ok: false, code: 'VIGIL_ERR_FRAME_INVALID', reason: summariseIssues(raw.error), ...(seq === undefined ? {} : { seq }) };
  }
  const env = raw.data;
  const known = { seq: env.seq, id: env.id, type: env.type };
  if (!isSupportedProtocolVersion(env.v)) {
    return { ok: false, code: 'VIGIL_ERR_PROTOCOL_VERSION', reason: `protocol version ${env.v} is not supported`, ...known };
  }
  const schema = Object.hasOwn(bodies, env.type) ? bodies[env.type] : undefined;
  if (!schema) {
    return { ok: false, code: 'VIGIL_ERR_MESSAGE_TYPE_UNKNOWN', reason: `unknown message type`, ...known };
  }
  const body = schema.safeParse(env.body);
  if (!body.success) {
    return { ok: false, code: 'VIGIL_ERR_MESSAGE_INVALID', reason: summariseIssues(body.error), ...known };
  }
  return { ok: true, envelope: { ...env, body: body.data } as E };
}

/** Parse and validate one frame from an agent: JSON, envelope, version, then the body's schema. */
export function decodeAgentFrame(data: string): Decoded<AgentEnvelope<AgentMessageType>> {
  return decode(data, AGENT_MESSAGE_BODIES);
}

/** Parse and validate one frame from the collector. */
export function decodeCollectorFrame(data: string): Decoded<CollectorEnvelope<CollectorMessageType>> {
  return decode(data, COLLECTOR_MESSAGE_BODIES);
}
