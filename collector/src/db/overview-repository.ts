import { RULE_IDS, type Overview, type RuleId } from '@vigil/shared';
import type { Db } from './database.js';

const DAY_MS = 86_400_000;
const OPEN = "status IN ('open', 'acknowledged')";

/** The fleet at a glance: counts from indexes, and open alerts per day from the alerts that overlap the window. */
export class OverviewRepository {
  constructor(private readonly db: Db) {}

  overview(days: number, now = Date.now()): Overview {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    const total = one("SELECT count(*) AS n FROM hosts WHERE status != 'retired'");
    const online = one("SELECT count(*) AS n FROM hosts WHERE status = 'online'");
    const withOpenAlerts = one(`SELECT count(DISTINCT host_id) AS n FROM alerts WHERE ${OPEN} AND host_id IS NOT NULL`);
    const inBreach = new Map(
      (this.db.prepare(`SELECT rule, count(DISTINCT host_id) AS n FROM alerts WHERE ${OPEN} AND host_id IS NOT NULL GROUP BY rule`).all() as { rule: RuleId; n: number }[]).map((r) => [r.rule, r.n]),
    );
    const compliance = RULE_IDS.filter((r) => r !== 'licence.over_deployed').map((rule) => {
      const hostsInBreach = inBreach.get(rule) ?? 0;
      return { rule, hostsInBreach, rate: total ? Math.max(0, total - hostsInBreach) / total : 1 };
    });

    // Day ends (UTC) of the window, oldest first; the last is now.
    const todayStart = Math.floor(now / DAY_MS) * DAY_MS;
    const ends = Array.from({ length: days }, (_, i) => (i === days - 1 ? now : todayStart - (days - 2 - i) * DAY_MS));
    const from = ends[0]!;
    const counts = ends.map(() => ({}) as Record<string, number>);
    // An alert is open at t when it was first seen by t and not yet resolved at t.
    const rows = this.db
      .prepare(`SELECT rule, first_seen_at AS f, resolved_at AS r FROM alerts WHERE first_seen_at <= ? AND (resolved_at IS NULL OR resolved_at > ?)`)
      .iterate(now, from) as Iterable<{ rule: string; f: number; r: number | null }>;
    for (const a of rows) {
      for (let i = 0; i < ends.length; i++) {
        const t = ends[i]!;
        if (a.f <= t && (a.r === null || a.r > t)) counts[i]![a.rule] = (counts[i]![a.rule] ?? 0) + 1;
      }
    }
    return {
      hosts: { total, online, withOpenAlerts },
      compliance,
      openAlertsByDay: ends.map((t, i) => ({ day: new Date(i === ends.length - 1 ? now : t - 1).toISOString().slice(0, 10), counts: counts[i]! })),
    };
  }
}
