import type { AgentEnvelope, ScreenlockSetting, SessionState, SoftwareItem, UsbDevice } from '@vigil/shared';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/** What a probe last said: the list, or why it could not tell, or nothing yet. */
export type Reported<T> = { known: true; items: T[]; at: number } | { known: false; reason: string; at: number } | null;

/** One host's current facts, as the policy engine judges them. */
export interface HostState {
  usb: Reported<UsbDevice>;
  software: Reported<SoftwareItem>;
  screenlock: Reported<ScreenlockSetting>;
  sessions: Reported<SessionState>;
}

/** The probes the collector keeps current state for (one column each in `host_state`). */
export type Probe = keyof HostState;
export const PROBES: readonly Probe[] = ['usb', 'software', 'screenlock', 'sessions'];

type ProbeValue<T> = T[] | { status: 'unknown'; reason: string };

/** A software package's identity, as the agent diffs inventories: source + name + architecture. */
export const softwareIdentity = (i: SoftwareItem): string => `${i.source}\u0000${i.name}\u0000${i.arch ?? ''}`;

function decode<T>(json: string | null, at: number | null): Reported<T> {
  if (json === null) return null;
  const value = JSON.parse(json) as ProbeValue<T>;
  if (Array.isArray(value)) return { known: true, items: value, at: at ?? 0 };
  return { known: false, reason: value.reason, at: at ?? 0 };
}

const prepareUpsert = (db: Db, p: Probe) =>
  db.prepare<[string, string, number]>(
    `INSERT INTO host_state (host_id, ${p}, ${p}_at) VALUES (?, ?, ?) ON CONFLICT (host_id) DO UPDATE SET ${p} = excluded.${p}, ${p}_at = excluded.${p}_at`,
  );

const encode = <T>(value: ProbeValue<T>): string => JSON.stringify(value);

/**
 * The current facts of every host, updated from each accepted message inside the ingest
 * transaction: a snapshot replaces what it reports, `usb.attached`/`usb.detached` change the set of
 * devices present (by bus path), `software.changed` applies its diff to the inventory, and
 * `screenlock.state`/`session.state` replace theirs. Stored as the JSON the shared schemas allow.
 */
export class HostStateRepository {
  private readonly selects = new Map<string, Statement<[string], Record<string, string | number | null>>>();
  private readonly upserts: Record<Probe, ReturnType<typeof prepareUpsert>>;
  private readonly forget;

  constructor(private readonly db: Db) {
    const upsert = (p: Probe) => prepareUpsert(db, p);
    this.upserts = { usb: upsert('usb'), software: upsert('software'), screenlock: upsert('screenlock'), sessions: upsert('sessions') };
    this.forget = db.prepare('DELETE FROM host_state WHERE host_id = ?');
  }

  /** The host's state; only `probes` are read and decoded (an inventory can be large). */
  get(hostId: string, probes: readonly Probe[] = PROBES): HostState {
    const state: HostState = { usb: null, software: null, screenlock: null, sessions: null };
    if (probes.length === 0) return state;
    const key = probes.join(',');
    let stmt = this.selects.get(key);
    if (!stmt) {
      stmt = this.db.prepare<[string], Record<string, string | number | null>>(`SELECT ${probes.map((p) => `${p}, ${p}_at`).join(', ')} FROM host_state WHERE host_id = ?`);
      this.selects.set(key, stmt);
    }
    const row = stmt.get(hostId);
    if (!row) return state;
    for (const p of probes) {
      (state as Record<Probe, Reported<unknown>>)[p] = decode(row[p] as string | null, row[`${p}_at`] as number | null);
    }
    return state;
  }

  /** Stores what a probe said now; returns it as the engine reads it. */
  private put<T>(hostId: string, probe: Probe, value: ProbeValue<T>, at: number): Reported<T> {
    this.upserts[probe].run(hostId, encode(value), at);
    return Array.isArray(value) ? { known: true, items: value, at } : { known: false, reason: value.reason, at };
  }

  remove(hostId: string): void {
    this.forget.run(hostId);
  }

  /**
   * Applies one accepted message to the host's state. Returns the probes whose state changed (what
   * the engine must re-judge) with their new state, and for USB attaches the device that arrived
   * (an occurrence, judged even if it is gone again by the time anyone looks).
   */
  apply(hostId: string, env: AgentEnvelope, at: number): { changed: Probe[]; state: HostState; attached?: UsbDevice; needsSnapshot?: true } {
    const state: HostState = { usb: null, software: null, screenlock: null, sessions: null };
    const changed: Probe[] = [];
    const set = <P extends Probe>(probe: P, value: HostState[P]) => {
      state[probe] = value;
      changed.push(probe);
    };
    switch (env.type) {
      case 'snapshot':
        for (const probe of PROBES) {
          const value = env.body[probe];
          if (value !== undefined) set(probe, this.put(hostId, probe, value as ProbeValue<never>, at));
        }
        break;
      case 'usb.attached': {
        const { device } = env.body;
        const current = this.get(hostId, ['usb']).usb;
        const devices = current?.known ? current.items.filter((d) => d.busPath !== device.busPath) : [];
        devices.push(device);
        set('usb', this.put(hostId, 'usb', devices, at));
        return { changed, state, attached: device };
      }
      case 'usb.detached': {
        const current = this.get(hostId, ['usb']).usb;
        if (!current?.known) break;
        const devices = current.items.filter((d) => d.busPath !== env.body.busPath);
        if (devices.length !== current.items.length) set('usb', this.put(hostId, 'usb', devices, at));
        break;
      }
      case 'software.changed': {
        const current = this.get(hostId, ['software']).software;
        // A diff without a known base cannot rebuild the inventory: ask for a snapshot.
        if (!current?.known) return { changed, state, needsSnapshot: true };
        const byId = new Map(current.items.map((i) => [softwareIdentity(i), i]));
        for (const item of env.body.removed) byId.delete(softwareIdentity(item));
        for (const { from, to } of env.body.upgraded) {
          byId.delete(softwareIdentity(from));
          byId.set(softwareIdentity(to), to);
        }
        for (const item of env.body.installed) byId.set(softwareIdentity(item), item);
        set('software', this.put(hostId, 'software', [...byId.values()], at));
        break;
      }
      case 'screenlock.state':
        set('screenlock', this.put(hostId, 'screenlock', env.body.settings as ProbeValue<ScreenlockSetting>, at));
        break;
      case 'session.state':
        set('sessions', this.put(hostId, 'sessions', env.body.sessions as ProbeValue<SessionState>, at));
        break;
      default:
        break;
    }
    return { changed, state };
  }

  /** Every host with some state, for re-evaluating the fleet. */
  hostIds(): string[] {
    return this.db.prepare<[], { host_id: string }>('SELECT host_id FROM host_state ORDER BY host_id').all().map((r) => r.host_id);
  }
}
