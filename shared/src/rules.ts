import { z } from 'zod';

/** Every alert rule, as named in DESIGN.md. Stable: part of the product. */
export const RULE_IDS = [
  'usb.unauthorised',
  'software.unapproved',
  'software.prohibited',
  'licence.over_deployed',
  'screenlock.noncompliant',
  'terminal.unattended',
  'agent.silent',
  'agent.cloned',
] as const;
export const RuleId = z.enum(RULE_IDS);
export type RuleId = z.infer<typeof RuleId>;

/** Alert severities, least to most severe. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;
