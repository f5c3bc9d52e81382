import { z } from 'zod';
import { LIMITS } from '../limits.js';

export const Role = z.enum(['admin', 'analyst', 'auditor']);
export type Role = z.infer<typeof Role>;

export const CreateTokenRequest = z.object({
  role: Role,
  name: z.string().min(1).max(LIMITS.label),
});
export const CreatedToken = z.object({
  id: z.uuid(),
  name: z.string(),
  role: Role,
  /** Shown once; stored as SHA-256. */
  token: z.string(),
});
export type CreatedToken = z.infer<typeof CreatedToken>;
