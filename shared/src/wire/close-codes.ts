/**
 * WebSocket close codes the collector uses, so an agent knows whether to reconnect soon
 * (transient) or back off long (its credentials or version will not do).
 */
export const CLOSE_CODES = {
  /** The collector is shutting down: reconnect soon. */
  goingAway: 1001,
  /** The store could not commit: reconnect soon and resend. */
  storeUnavailable: 1011,
  /** Protocol violation (no hello, incompatible version, a frame for another host). */
  protocol: 4400,
  /** The agent's token was revoked while connected. */
  revoked: 4401,
  /** A newer connection with the same token replaced this one. */
  superseded: 4409,
  /** Too many frames that could not be read. */
  tooManyBadFrames: 4429,
  /** Frames kept arriving faster than the rate limit allows: reconnect later (the collector refuses again for a while). */
  rateLimited: 4430,
} as const;

/** Codes after which reconnecting at once would only repeat the refusal. */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([CLOSE_CODES.protocol, CLOSE_CODES.revoked]);
