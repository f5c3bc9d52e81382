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

function decode<E>(data: string, bodies: Record<string, z.ZodType>): Decoded<E> {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    // Also catches RangeError from pathologically deep nesting.
    return { ok: false, code: 'VIGIL_ERR_FRAME_NOT_JSON', reason: 'frame is not valid JSON' };
  }
  const raw = RawEnvelope.safeParse(json);
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
