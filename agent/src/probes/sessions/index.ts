/**
 * Session state probe: per session, who, locked, idle beyond the configured threshold (and since
 * when), local or remote, seat and type — nothing else: no window titles, no processes, no
 * activity timeline. One reader per OS (linux.ts, win32.ts, darwin.ts) behind `readSessions`;
 * `SessionSampler` samples locally and reports only changes.
 */
export { readSessions } from './read-sessions.js';
export { SessionSampler, type SessionSamplerOptions } from './sampler.js';
