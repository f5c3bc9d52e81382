/** The part of a pino logger the outbox uses; pino's `Logger` satisfies it. */
export interface OutboxLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

/** Used when no logger is given. */
export const silentLogger: OutboxLogger = {
  warn: () => undefined,
  info: () => undefined,
};
