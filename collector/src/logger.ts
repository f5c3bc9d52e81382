import type { LoggerOptions } from 'pino';

/** Never log a secret: bearer tokens, enrolment secrets, passwords, cookies. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.secret',
  '*.token',
  '*.agentToken',
  '*.password',
  '*.adminToken',
  '*.adminPassword',
  '*.enrolSecret',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    name: 'vigil-collector',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
}
