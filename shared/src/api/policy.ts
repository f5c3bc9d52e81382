import { z } from 'zod';
import { ListQuery } from './list.js';

/** `GET /api/v1/policy/versions` items; the current policy adds its document. */
export const PolicyVersionInfo = z.object({
  version: z.number().int().min(0),
  sha256: z.string(),
  /** `api`, `file:<path>`, or `default` (nothing written yet). */
  source: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
});
export type PolicyVersionInfo = z.infer<typeof PolicyVersionInfo>;

/** `GET /api/v1/policy`: the version in force, its YAML as written, and what it parses to (every default filled in). */
export const CurrentPolicy = PolicyVersionInfo.extend({
  document: z.string(),
  policy: z.record(z.string(), z.unknown()),
});
export type CurrentPolicy = z.infer<typeof CurrentPolicy>;

/** One problem with a refused policy document (`VIGIL_ERR_POLICY_INVALID` details). */
export const PolicyProblem = z.object({ path: z.string(), message: z.string(), line: z.number().int().optional() });
export type PolicyProblem = z.infer<typeof PolicyProblem>;

/** `PUT /api/v1/policy` answer. `created` is false when the document equals the current one. */
export const PutPolicyResponse = PolicyVersionInfo.extend({
  created: z.boolean(),
  /** Hosts queued for re-evaluation against the new version. */
  reevaluating: z.number().int().min(0),
});
export type PutPolicyResponse = z.infer<typeof PutPolicyResponse>;

export const PolicyVersionQuery = ListQuery;
export const PolicyVersionParams = z.object({ version: z.coerce.number().int().min(1) });
