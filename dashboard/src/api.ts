import type { SessionInfo } from '@vigil/shared';

/** The logged-in user and the CSRF token every change must carry (the session itself is an HttpOnly cookie). */
let session: SessionInfo | null = null;
export const currentSession = () => session;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** What the API said besides (a bad policy's problems, each with its line). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Called when the session has ended: the app shows the login page. */
let onLoggedOut: () => void = () => undefined;
export const whenLoggedOut = (fn: () => void) => (onLoggedOut = fn);

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session) headers['x-vigil-csrf'] = session.csrfToken;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string; details?: unknown } };
  if (!res.ok) {
    const err = new ApiError(res.status, body.error?.code ?? `HTTP ${res.status}`, body.error?.message ?? res.statusText, body.error?.details);
    if (res.status === 401 && path !== '/api/v1/session') {
      session = null;
      onLoggedOut();
    }
    throw err;
  }
  return body as T;
}

export async function restoreSession(): Promise<SessionInfo | null> {
  try {
    session = await api<SessionInfo>('/api/v1/session');
  } catch {
    session = null;
  }
  return session;
}

export async function logIn(name: string, password: string): Promise<SessionInfo> {
  session = await api<SessionInfo>('/api/v1/session', { method: 'POST', body: { name, password } });
  return session;
}

export async function logOut(): Promise<void> {
  try {
    await api('/api/v1/session', { method: 'DELETE' });
  } finally {
    session = null;
  }
}

export const isAdmin = () => session?.user.role === 'admin';
export const canTriage = () => session?.user.role === 'admin' || session?.user.role === 'analyst';
