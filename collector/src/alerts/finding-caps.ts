import { SEVERITIES, type RuleId } from '@vigil/shared';
import type { Finding } from '../policy/finding.js';

/** Open alerts one host may have per rule; past it, the rest are folded into one (see capFindings). */
export const MAX_ALERTS_PER_HOST_RULE = 200;
/** Items listed in one alert's details (the packages behind a software finding). */
export const MAX_DETAIL_ITEMS = 100;
/** The subject of the alert that stands for a host's findings beyond MAX_ALERTS_PER_HOST_RULE. */
export const OVERFLOW_SUBJECT = '(more)';

/**
 * Bounds what one host can put in the alert store, whatever it reports (a host listing 20,000
 * unapproved packages must not make 20,000 alerts, events, audit entries and notifications):
 * at most MAX_ALERTS_PER_HOST_RULE - 1 findings per rule (by subject order, so the same ones
 * stay) plus one `(more)` finding that counts the rest and names a few; and at most
 * MAX_DETAIL_ITEMS items listed in any finding's details.
 */
export function capFindings(findings: readonly Finding[]): Finding[] {
  const byRule = new Map<RuleId, Finding[]>();
  for (const f of findings) {
    const list = byRule.get(f.rule);
    if (list) list.push(f);
    else byRule.set(f.rule, [f]);
  }
  const out: Finding[] = [];
  for (const [rule, list] of byRule) {
    let kept = list;
    if (list.length > MAX_ALERTS_PER_HOST_RULE) {
      const sorted = [...list].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
      kept = sorted.slice(0, MAX_ALERTS_PER_HOST_RULE - 1);
      const rest = sorted.slice(MAX_ALERTS_PER_HOST_RULE - 1);
      kept.push({
        rule,
        subject: OVERFLOW_SUBJECT,
        severity: rest.reduce((s, f) => (SEVERITIES.indexOf(f.severity) > SEVERITIES.indexOf(s) ? f.severity : s), rest[0]?.severity ?? 'low'),
        details: {
          count: rest.length,
          subjects: rest.slice(0, MAX_DETAIL_ITEMS).map((f) => f.subject),
          message: `${rest.length} more ${rule} findings on this host than one alert each (${MAX_ALERTS_PER_HOST_RULE - 1} are shown as their own alerts)`,
        },
      });
    }
    for (const f of kept) {
      const items = f.details.items;
      out.push(Array.isArray(items) && items.length > MAX_DETAIL_ITEMS ? { ...f, details: { ...f.details, items: items.slice(0, MAX_DETAIL_ITEMS), itemsNotShown: items.length - MAX_DETAIL_ITEMS } } : f);
    }
  }
  return out;
}
