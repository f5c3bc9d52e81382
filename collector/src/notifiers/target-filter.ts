import { SEVERITIES, type NotificationFilter, type Severity } from '@vigil/shared';
import type { AlertNotice } from './types.js';

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** Whether a target with this filter receives this alert change. */
export function filterMatches(filter: NotificationFilter, notice: AlertNotice): boolean {
  if (!filter.actions.includes(notice.action)) return false;
  if (filter.rules && !filter.rules.includes(notice.alert.rule)) return false;
  if (filter.minSeverity && rank(notice.alert.severity) < rank(filter.minSeverity)) return false;
  return true;
}
