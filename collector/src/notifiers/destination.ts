import type { StoredTarget } from './types.js';

/**
 * Where a target sends, fit for logs: a webhook's origin only (its path, query or userinfo may
 * be the credential, as Slack's are), or syslog's transport, host and port.
 */
export function destination(target: StoredTarget): string {
  if (target.kind === 'syslog') return `syslog+${target.config.transport}://${target.config.host}:${target.config.port}`;
  try {
    return new URL(target.config.url).origin;
  } catch {
    return '[invalid url]';
  }
}
