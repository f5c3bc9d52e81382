import { z } from 'zod';
import { HostFacts } from '../host-facts.js';

export const EnrolRequest = z.object({
  secret: z.string().min(1).max(256),
  host: HostFacts,
});
export type EnrolRequest = z.infer<typeof EnrolRequest>;

export const EnrolResponse = z.object({
  agentId: z.uuid(),
  hostId: z.uuid(),
  /** Shown once; the collector keeps only its SHA-256. */
  agentToken: z.string().min(32),
});
export type EnrolResponse = z.infer<typeof EnrolResponse>;
