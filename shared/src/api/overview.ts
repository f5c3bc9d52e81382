import { z } from 'zod';
import { RuleId } from '../rules.js';

/** `GET /api/v1/overview?days=N` (any role): the fleet at a glance, for the dashboard's overview. */
export const OverviewQuery = z.object({ days: z.coerce.number().int().min(1).max(90).default(14) });

export const Overview = z.object({
  hosts: z.object({
    /** Hosts not retired. */
    total: z.number().int(),
    online: z.number().int(),
    /** Hosts with at least one open or acknowledged alert. */
    withOpenAlerts: z.number().int(),
  }),
  /** Per rule: hosts in breach now (an open or acknowledged alert of the rule) and the share that is not. */
  compliance: z.array(z.object({ rule: RuleId, hostsInBreach: z.number().int(), rate: z.number().min(0).max(1) })),
  /** Open (or acknowledged) alerts at the end of each UTC day, oldest first, by rule. */
  openAlertsByDay: z.array(z.object({ day: z.string(), counts: z.record(z.string(), z.number().int()) })),
});
export type Overview = z.infer<typeof Overview>;
