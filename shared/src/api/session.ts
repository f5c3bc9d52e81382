import { z } from 'zod';
import { Role } from './tokens.js';

/** `POST /api/v1/session`: a local user logs in (the dashboard). */
export const LoginRequest = z.object({
  name: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

/**
 * The session behind the `vigil_session` cookie (`POST` and `GET /api/v1/session`). A request that
 * changes something with that cookie must carry `csrfToken` in the `x-vigil-csrf` header.
 */
export const SessionInfo = z.object({
  user: z.object({ name: z.string(), role: Role }),
  csrfToken: z.string(),
  /** When the session ends at the latest (ISO 8601); it ends sooner after a long idle spell. */
  expiresAt: z.string(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;
