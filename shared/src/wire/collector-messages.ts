import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { text } from '../text.js';

/** Bodies of the messages the collector sends to an agent. */

export const AckBody = z.object({
  /** Every message with seq ≤ upToSeq is committed (or recorded as rejected). */
  upToSeq: z.number().int().min(0),
  rejected: z.array(z.object({ seq: z.number().int().min(0), code: text(64) })).max(10_000).optional(),
});

export const ConfigBody = z.object({
  heartbeatSeconds: z.number().min(0.05).max(86_400),
  idleThresholdSeconds: z.number().int().min(1).max(86_400),
  /** Maximum bytes of one frame the collector accepts. */
  maxFrameBytes: z.number().int().min(1024),
});

export const CommandBody = z.object({ id: z.uuid(), kind: z.enum(['collect-now']) });

export const ErrorBody = z.object({
  code: text(64),
  message: text(LIMITS.message),
  /** The seq of the frame this error answers, when it could be read. */
  seq: z.number().int().min(0).optional(),
});

export const COLLECTOR_MESSAGE_BODIES = {
  ack: AckBody,
  config: ConfigBody,
  command: CommandBody,
  error: ErrorBody,
} as const;

export type CollectorMessageType = keyof typeof COLLECTOR_MESSAGE_BODIES;
export type CollectorMessageBody<T extends CollectorMessageType> = z.infer<(typeof COLLECTOR_MESSAGE_BODIES)[T]>;
