import { createHash, randomBytes } from 'node:crypto';

/** The dashboard's session cookie: an opaque random value; the database keeps only its SHA-256. */
export const SESSION_COOKIE = 'vigil_session';
/** A session ends after this long without a request… */
export const SESSION_IDLE_MS = 12 * 3600_000;
/** …and at the latest this long after login. */
export const SESSION_MAX_MS = 7 * 24 * 3600_000;
/** How often a session's last-seen time is written (not on every request). */
export const SESSION_TOUCH_MS = 60_000;
export const CSRF_HEADER = 'x-vigil-csrf';

export const newSessionId = () => randomBytes(32).toString('base64url');
/**
 * A session's CSRF token, derived from its id (which only the cookie's holder has) so that nothing
 * but hashes is stored: the database holds SHA-256 of the id, from which this cannot be computed.
 */
export const csrfTokenFor = (sessionId: string) => createHash('sha256').update('vigil-csrf\u0000').update(sessionId).digest('base64url');

/** The value of one cookie in a `Cookie` header (undefined when absent or not a plausible session id). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return /^[A-Za-z0-9_-]{16,128}$/.test(value) ? value : undefined;
  }
  return undefined;
}

/** `Set-Cookie` for the session (or, with value '', one that clears it). */
export function sessionCookie(value: string, secure: boolean): string {
  const maxAge = value ? Math.floor(SESSION_MAX_MS / 1000) : 0;
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

interface Window {
  failures: number;
  until: number;
}

/**
 * Failed logins counted per user name and per client address in fixed windows: past the limit,
 * logins are refused (429, even with the right password) until the window ends. In memory: a
 * restart forgets, which costs an attacker a restart they cannot cause.
 */
export class LoginThrottle {
  private readonly byName = new Map<string, Window>();
  private readonly byAddress = new Map<string, Window>();

  constructor(
    private readonly perName = 5,
    private readonly perAddress = 20,
    private readonly windowMs = 15 * 60_000,
    /** Keys kept at most per map (untrusted names and addresses). */
    private readonly maxKeys = 10_000,
  ) {}

  /** Milliseconds until this name or address may try again (0: now). */
  blockedFor(name: string, address: string, now: number): number {
    const wait = (m: Map<string, Window>, key: string, limit: number) => {
      const w = m.get(key);
      return w && w.until > now && w.failures >= limit ? w.until - now : 0;
    };
    return Math.max(wait(this.byName, name.toLowerCase(), this.perName), wait(this.byAddress, address, this.perAddress));
  }

  failed(name: string, address: string, now: number): void {
    this.count(this.byName, name.toLowerCase(), now);
    this.count(this.byAddress, address, now);
  }

  succeeded(name: string): void {
    this.byName.delete(name.toLowerCase());
  }

  private count(m: Map<string, Window>, key: string, now: number): void {
    const w = m.get(key);
    if (w && w.until > now) {
      w.failures++;
      return;
    }
    if (m.size >= this.maxKeys) {
      for (const [k, v] of m) if (v.until <= now) m.delete(k);
      // Still full of live windows: forget the oldest rather than grow without bound.
      if (m.size >= this.maxKeys) m.delete(m.keys().next().value!);
    }
    m.set(key, { failures: 1, until: now + this.windowMs });
  }
}
