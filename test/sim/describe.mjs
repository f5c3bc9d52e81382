// The fleet a seed makes and the first events of its schedule, without any collector: what two
// runs with the same seed must agree on.
import { EventPlan } from './events.mjs';
import { Fleet } from './fleet.mjs';
import { hash32 } from './prng.mjs';
import { loadTemplates } from './templates.mjs';

/** A fixed wall clock for offset 0, so timestamps inside event bodies are reproducible too. */
const EPOCH = Date.UTC(2024, 0, 1);

function brief(type, body) {
  if (type === 'usb.attached') return body.device.key;
  if (type === 'usb.detached') return body.key;
  if (type === 'software.changed') return `+${body.installed.map((i) => i.name).join('+')} -${body.removed.map((i) => i.name).join('-')} ^${body.upgraded.length}`;
  if (type === 'session.state') return body.sessions.map((s) => `${s.user}:${s.locked ? 'locked' : s.idle ? 'idle' : 'active'}`).join(',');
  if (type === 'screenlock.state') return body.settings.map((s) => `${s.user}:${s.idleTimeoutSeconds.value}`).join(',');
  return '';
}

/**
 * @param {{seed: string|number, agents: number, firstIndex?: number, events?: number, eventsPerAgentPerHour?: number, templates?: string[], dpkgStatus?: string, exactTimes?: boolean}} o
 *   `firstIndex`: describe hosts firstIndex … firstIndex + agents − 1 of the fleet (one shard's);
 *   `exactTimes`: each event also carries its unrounded offset `at`, for merging shards' schedules
 * @returns {{seed: string, templates: object[], hosts: object[], schedule: object[]}}
 */
export function describeFleet(o) {
  const data = loadTemplates(o.dpkgStatus ? { dpkgStatus: o.dpkgStatus } : {});
  const templates = o.templates ? data.templates.filter((t) => o.templates.includes(t.id)) : data.templates;
  const fleet = new Fleet({ seed: o.seed, templates, usb: data.usb });
  const plan = new EventPlan({ eventsPerAgentPerHour: o.eventsPerAgentPerHour ?? 6 });
  const first = o.firstIndex ?? 0;
  const hosts = Array.from({ length: o.agents }, (_, i) => fleet.host(first + i));
  const described = hosts.map((h) => h.describe());
  for (const h of hosts) plan.init(h);

  // The fleet's schedule in time order: the next event of whichever host is due first.
  const schedule = [];
  const want = o.events ?? 100;
  while (schedule.length < want) {
    let best;
    let bestAt = Infinity;
    for (const h of hosts) {
      const at = plan.dueAt(h);
      if (at < bestAt) {
        bestAt = at;
        best = h;
      }
    }
    if (!best) break;
    const e = plan.next(best, EPOCH, 900);
    if (!e.type) continue;
    schedule.push({ atMs: Math.round(e.at), host: best.index, type: e.type, what: brief(e.type, e.body), digest: hash32(JSON.stringify(e.body)).toString(16), ...(o.exactTimes ? { at: e.at } : {}) });
  }
  return {
    seed: String(o.seed),
    dpkgStatus: data.sources.dpkgStatus,
    templates: templates.map((t) => ({ id: t.id, os: t.os, coreItems: t.core.length, optionalItems: t.optional.length, optionalP: t.optionalP })),
    hosts: described,
    schedule,
  };
}
