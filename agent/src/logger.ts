import pino, { type Logger } from 'pino';

/** Never log the agent token or the enrolment secret. */
export const REDACT_PATHS = ['agentToken', '*.agentToken', 'secret', '*.secret', 'enrolSecret', '*.enrolSecret', 'headers.authorization'];

export async function createLogger(level: string, pretty: boolean, fd: 1 | 2 = 1): Promise<Logger> {
  const opts = { level, name: 'vigil-agent', redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (!pretty) return pino(opts, pino.destination({ fd, sync: true }));
  const { PinoPretty } = await import('pino-pretty');
  return pino(opts, PinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', destination: fd }));
}
