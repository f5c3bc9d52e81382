// What happens on a simulated host, and when: a Poisson process of events per host (USB sticks
// plugged in and out, software installed, removed and upgraded, sessions going idle and locking,
// screen-lock settings changed) drawn from the host's own seeded stream. The schedule depends only
// on the seed and on the events before it, never on the network, so the same seed replays the
// same events at the same offsets from the start.
import { hash32, mix32, Rng } from './prng.mjs';

/** Kinds of event and how often each happens relative to the others. */
const KINDS = [
  [25, 'usb'],
  [20, 'software'],
  [45, 'session'],
  [10, 'screenlock'],
];

/** What is plugged in: mostly devices the fleet policy allows, sometimes one it does not. */
const PLUG = [
  [40, 'issuedStick'],
  [20, 'mouse'],
  [20, 'headset'],
  [12, 'kingston'],
  [6, 'phone'],
  [2, 'badUsbGadget'],
];

export class EventPlan {
  /** @param {{eventsPerAgentPerHour: number}} o */
  constructor({ eventsPerAgentPerHour }) {
    this.meanGapMs = eventsPerAgentPerHour > 0 ? 3_600_000 / eventsPerAgentPerHour : Infinity;
  }

  /** Sets up the host's stream; returns the offset (ms from the start) of its first event. */
  init(host) {
    host.ev = new Rng(mix32(host.seed, hash32('events')));
    host.nextAt = this.meanGapMs === Infinity ? Infinity : host.ev.exp(this.meanGapMs);
    host.lockAt = Infinity;
    host.lockSession = 0;
    return host.nextAt;
  }

  /** Offset of the host's next event. */
  dueAt(host) {
    return Math.min(host.nextAt, host.lockAt);
  }

  /**
   * Takes the host's next event, changes the host accordingly and returns the message its agent
   * would send `{at, type, body}` (`at`: ms from the start), or `{at, type: null}` when the event
   * changed nothing an agent reports.
   * @param startMs wall-clock time of offset 0 (for idleSince)
   * @param idleThresholdSeconds from the collector's config: when the agent calls a session idle
   */
  next(host, startMs, idleThresholdSeconds) {
    if (host.lockAt <= host.nextAt) {
      const at = host.lockAt;
      host.lockAt = Infinity;
      return { at, ...lockSession(host, host.lockSession) };
    }
    const at = host.nextAt;
    const r = host.ev;
    host.nextAt = at + r.exp(this.meanGapMs);
    const kind = r.weighted(KINDS);
    const msg = kind === 'usb' ? usbEvent(host, r) : kind === 'software' ? softwareEvent(host, r) : kind === 'session' ? sessionEvent(host, r, at, startMs, idleThresholdSeconds) : screenlockEvent(host, r);
    return { at, ...msg };
  }
}

function usbEvent(host, r) {
  const plugged = host.plugged;
  if (plugged?.length && r.chance(0.6)) {
    const device = plugged.splice(r.int(0, plugged.length - 1), 1)[0];
    return { type: 'usb.detached', body: { key: device.key, busPath: device.busPath, device } };
  }
  const kind = r.weighted(PLUG);
  // A host's own stick, mouse or phone has one serial; an unknown stick is now and then a new one.
  const serial = kind === 'kingston' && r.chance(0.3) ? r.hex(16).toUpperCase() : kind === 'mouse' || kind === 'badUsbGadget' ? '' : host.ownSerial(kind);
  const current = host.usbNow();
  const device = host.device(kind, { serial, busPath: host.port(host.nextFreePort(current)) });
  (host.plugged ??= []).push(device);
  return { type: 'usb.attached', body: { device, present: false } };
}

function softwareEvent(host, r) {
  const t = host.template;
  const what = r.weighted([
    [50, 'upgrade'],
    [30, 'install'],
    [20, 'remove'],
  ]);
  if (what === 'upgrade') {
    // An update run: a handful of packages at once.
    const n = t.platform === 'linux' ? r.int(1, 12) : r.int(1, 3);
    const upgraded = [];
    const seen = new Set();
    for (let i = 0; i < n; i++) {
      const e = t.core[r.int(0, t.core.length - 1)];
      if (seen.has(e.id) || !host.has(e)) continue;
      seen.add(e.id);
      upgraded.push(host.upgrade(e));
    }
    return upgraded.length ? { type: 'software.changed', body: { installed: [], removed: [], upgraded } } : { type: null };
  }
  if (what === 'install') {
    const candidates = r.chance(0.6) ? t.installable.map((i) => i.entry) : t.optional;
    for (let tries = 0; tries < 4 && candidates.length; tries++) {
      const e = candidates[r.int(0, candidates.length - 1)];
      if (!host.has(e)) return { type: 'software.changed', body: { installed: [host.install(e)], removed: [], upgraded: [] } };
    }
    return { type: null };
  }
  // Remove something installed during the run, else one of its optional items.
  const added = host.sw ? [...host.sw.added.values()] : [];
  const pool = added.length && r.chance(0.7) ? added : host.optionalEntries().filter((e) => host.has(e));
  if (pool.length === 0) return { type: null };
  const e = pool[r.int(0, pool.length - 1)];
  return { type: 'software.changed', body: { installed: [], removed: [host.remove(e)], upgraded: [] } };
}

function sessionsBody(host) {
  return { type: 'session.state', body: { sessions: host.sessions() } };
}

function lockSession(host, i) {
  host.sessions();
  if (host.sessionPhase[i] !== 1) return { type: null };
  host.sessionPhase[i] = 2;
  return sessionsBody(host);
}

/**
 * A local session moves on: active → locked (the screen lock did its job), or active → idle and
 * unlocked → locked a little later (now and then much later: an unattended terminal), locked →
 * active (the user is back), idle → active.
 */
function sessionEvent(host, r, at, startMs, idleThresholdSeconds) {
  const sessions = host.sessions();
  const local = sessions.map((s, i) => (s.remote ? -1 : i)).filter((i) => i >= 0);
  if (local.length === 0) return { type: null };
  const i = local[r.int(0, local.length - 1)];
  const phase = host.sessionPhase[i];
  if (phase === 0) {
    // Windows does not report lock state: its sessions only go idle and come back.
    if (host.platform !== 'win32' && r.chance(0.75)) host.sessionPhase[i] = 2;
    else {
      host.sessionPhase[i] = 1;
      host.idleSince[i] = startMs + at - idleThresholdSeconds * 1000;
      if (host.platform !== 'win32') {
        host.lockAt = at + (r.chance(0.6) ? r.int(20, 110) : r.int(150, 1800)) * 1000;
        host.lockSession = i;
      }
    }
  } else {
    host.sessionPhase[i] = 0;
    if (host.lockSession === i) host.lockAt = Infinity;
  }
  return sessionsBody(host);
}

function screenlockEvent(host, r) {
  const settings = host.lockSettings();
  const i = r.int(0, settings.length - 1);
  const current = settings[i].idleTimeoutSeconds.value;
  // Someone turns the lock off or makes it slow; or IT (or the user) puts it right.
  const next = current > 0 && current <= 900 ? r.pick([1800, 3600, 0]) : r.pick([300, 600]);
  host.lockTimeouts ??= settings.map(() => undefined);
  host.lockTimeouts[i] = next;
  return { type: 'screenlock.state', body: { settings: host.lockSettings() } };
}
