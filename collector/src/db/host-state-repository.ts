import type { AgentEnvelope, ScreenlockSetting, SessionState, SoftwareItem, UsbDevice } from '@vigil/shared';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';
import { SoftwareInventory, type ClassifiedPackage, type SoftwareClassifier } from './software-inventory.js';

export type { SoftwareClassifier } from './software-inventory.js';

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

/** What a software diff touched, for judging it incrementally. */
export interface SoftwareChange {
  /** Subjects of the rows the diff removed or wrote (before and after), by status. */
  subjects: Set<string>;
  /** A licensed package came or went: the host's seats must be recounted. */
  licensed: boolean;
  /** Some rows of the host were classified under another policy version: judge the whole inventory. */
  stale: boolean;
}

/** The marker in host_state.software when the inventory is known (its packages are in host_inventories). */
const SOFTWARE_KNOWN = '{"status":"known"}';

/** A software package's identity, as the agent diffs inventories: source + name + architecture. */
export const softwareIdentity = (i: SoftwareItem): string => `${i.source}\u0000${i.name}\u0000${i.arch ?? ''}`;

function decode<T>(json: string | null, at: number | null, rows?: () => T[]): Reported<T> {
  if (json === null) return null;
  if (json === SOFTWARE_KNOWN && rows) return { known: true, items: rows(), at: at ?? 0 };
  const value = JSON.parse(json) as ProbeValue<T>;
  if (Array.isArray(value)) return { known: true, items: value, at: at ?? 0 };
  return { known: false, reason: value.reason, at: at ?? 0 };
}

const prepareUpsert = (db: Db, p: Probe) =>
  db.prepare<[string, string, number]>(
    `INSERT INTO host_state (host_id, ${p}, ${p}_at) VALUES (?, ?, ?) ON CONFLICT (host_id) DO UPDATE SET ${p} = excluded.${p}, ${p}_at = excluded.${p}_at`,
  );

const encode = <T>(value: ProbeValue<T>): string => JSON.stringify(value);

/** A probe whose latest value is kept in memory until the transaction ends (see `flushPending`). */
type DeferredProbe = Exclude<Probe, 'software'>;
type Pending = Partial<Record<DeferredProbe, { value: ProbeValue<unknown>; reported: Reported<unknown> }>>;

/**
 * The current facts of every host, updated from each accepted message inside the ingest
 * transaction: a snapshot replaces what it reports, `usb.attached`/`usb.detached` change the set of
 * devices present (by bus path), `software.changed` applies its diff to the inventory, and
 * `screenlock.state`/`session.state` replace theirs. Stored as the JSON the shared schemas allow;
 * the software inventory as rows (`SoftwareInventory`).
 */
export class HostStateRepository {
  private readonly selects = new Map<string, Statement<[string], Record<string, string | number | null>>>();
  private readonly upserts: Record<Probe, ReturnType<typeof prepareUpsert>>;
  private readonly upsertSessions;
  private readonly forget;
  /**
   * Writes of usb, screenlock and sessions made inside a transaction, per host: only the last value
   * of each is written, once, when the transaction is about to commit (`flushPending`, called by
   * the store's `transaction`). A host sending 100 session changes in one ingest batch costs one
   * row write instead of 100. Reads (`get`, `apply`) see them.
   */
  private pending = new Map<string, Pending>();
  /** How to take back each deferred write, newest last (a failed savepoint: `rollbackTo`). */
  private undo: (() => void)[] = [];
  /**
   * Per host, the time of its latest software diff in this transaction, not written yet: a diff
   * leaves the inventory known and changes only `software_at`, written once per host when the
   * transaction is about to commit (`flushPending`) instead of a row rewrite per diff.
   */
  private softwareAt = new Map<string, number>();
  /** Per host, its software marker as read in this transaction (dropped whenever it is written). */
  private markers = new Map<string, { software: string | null; v: number | null } | undefined>();

  constructor(
    private readonly db: Db,
    private readonly inventory: SoftwareInventory = new SoftwareInventory(db),
  ) {
    const upsert = (p: Probe) => prepareUpsert(db, p);
    this.upserts = { usb: upsert('usb'), software: upsert('software'), screenlock: upsert('screenlock'), sessions: upsert('sessions') };
    inventory.useUndoLog((undo) => {
      if (db.inTransaction) this.undo.push(undo);
    });
    this.upsertSessions = db.prepare<[string, string, number, number]>(
      `INSERT INTO host_state (host_id, sessions, sessions_at, sessions_attention) VALUES (?, ?, ?, ?)
       ON CONFLICT (host_id) DO UPDATE SET sessions = excluded.sessions, sessions_at = excluded.sessions_at, sessions_attention = excluded.sessions_attention`,
    );
    this.forget = db.prepare('DELETE FROM host_state WHERE host_id = ?');
    this.sw = {
      setVersion: db.prepare<[number | null, string]>('UPDATE host_state SET software_policy_version = ? WHERE host_id = ?'),
      setAt: db.prepare<[number, string]>('UPDATE host_state SET software_at = ? WHERE host_id = ?'),
    };
    this.softwareMarker = db.prepare<[string], { software: string | null; v: number | null }>('SELECT software, software_policy_version AS v FROM host_state WHERE host_id = ?');
  }

  private readonly sw;

  /** The host's inventory (from its rows). */
  softwareItems(hostId: string): SoftwareItem[] {
    return this.inventory.items(hostId);
  }

  /** The host's packages with the classification stored for them. */
  classifiedSoftware(hostId: string): ClassifiedPackage[] {
    return this.inventory.classified(hostId);
  }

  /** Stores a package's classification under the policy in force (after a full judgement; for every host that has it). */
  reclassify(pkg: Pick<ClassifiedPackage, 'id'>, status: string, subject: string, version: number): void {
    this.inventory.reclassify(pkg.id, status, subject, version);
  }

  /** Records that every row of the host is classified under `version` (after a full judgement). */
  markSoftwareClassified(hostId: string, version: number): void {
    this.markers.delete(hostId);
    this.sw.setVersion.run(version, hostId);
  }

  /** The packages of one subject on a host that can hold a finding (stored as unapproved, prohibited or not classified). */
  softwareOfSubject(hostId: string, subject: string): { item: SoftwareItem; status: string | null }[] {
    return this.inventory.ofSubject(hostId, subject);
  }

  /** Licensed titles the host's packages hold (as classified). */
  licensedSubjects(hostId: string): Set<string> {
    return this.inventory.licensedSubjects(hostId);
  }

  /** The host's state; only `probes` are read and decoded (an inventory can be large). */
  get(hostId: string, probes: readonly Probe[] = PROBES): HostState {
    const state: HostState = { usb: null, software: null, screenlock: null, sessions: null };
    if (probes.length === 0) return state;
    const pending = this.pending.get(hostId);
    let out: HostState;
    if (pending) {
      const unread = probes.filter((p) => p === 'software' || pending[p] === undefined);
      const stored = this.read(hostId, unread);
      for (const p of probes) (state as Record<Probe, Reported<unknown>>)[p] = p === 'software' || pending[p] === undefined ? stored[p] : pending[p].reported;
      out = state;
    } else out = this.read(hostId, probes);
    const softwareAt = this.softwareAt.get(hostId);
    if (softwareAt !== undefined && out.software?.known) out.software = { ...out.software, at: softwareAt };
    return out;
  }

  /** The host's state as stored (without the deferred writes). */
  private read(hostId: string, probes: readonly Probe[]): HostState {
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
      const rows = p === 'software' ? () => this.softwareItems(hostId) : undefined;
      (state as Record<Probe, Reported<unknown>>)[p] = decode(row[p] as string | null, row[`${p}_at`] as number | null, rows);
    }
    return state;
  }

  /** Stores what a probe said now; returns it as the engine reads it. */
  private put<T>(hostId: string, probe: Probe, value: ProbeValue<T>, at: number, classifier?: SoftwareClassifier): Reported<T> {
    if (probe === 'software') {
      // Rows hold the inventory; the column only says whether it is known.
      this.forgetSoftwareMarker(hostId);
      if (Array.isArray(value)) this.inventory.replace(hostId, value as SoftwareItem[], classifier);
      this.upserts.software.run(hostId, Array.isArray(value) ? SOFTWARE_KNOWN : encode(value), at);
      this.sw.setVersion.run(Array.isArray(value) ? (classifier?.version ?? null) : null, hostId);
    }
    const reported: Reported<T> = Array.isArray(value) ? { known: true, items: value, at } : { known: false, reason: value.reason, at };
    if (probe !== 'software') {
      if (this.db.inTransaction) {
        let pending = this.pending.get(hostId);
        if (!pending) this.pending.set(hostId, (pending = {}));
        const before = pending[probe];
        this.undo.push(() => this.restore(hostId, probe, before));
        pending[probe] = { value, reported };
      } else this.write(hostId, probe, value, at);
    }
    return reported;
  }

  private write(hostId: string, probe: DeferredProbe, value: ProbeValue<unknown>, at: number): void {
    if (probe === 'sessions') {
      // 1 when a local session is idle and unlocked: the only hosts the unattended timer looks at.
      const attention = Array.isArray(value) && (value as SessionState[]).some((x) => x.idle === true && x.locked === false && !x.remote);
      this.upsertSessions.run(hostId, encode(value), at, attention ? 1 : 0);
    } else this.upserts[probe].run(hostId, encode(value), at);
  }

  /** Writes the deferred state (the store's `transaction` calls this just before it commits). */
  flushPending(): void {
    this.inventory.endTransaction();
    this.undo = [];
    this.markers.clear();
    if (this.softwareAt.size > 0) {
      for (const [hostId, at] of this.softwareAt) this.sw.setAt.run(at, hostId);
      this.softwareAt = new Map();
    }
    if (this.pending.size === 0) return;
    const pending = this.pending;
    this.pending = new Map();
    for (const [hostId, probes] of pending) {
      for (const probe of ['usb', 'screenlock', 'sessions'] as const) {
        const p = probes[probe];
        if (p?.reported) this.write(hostId, probe, p.value, p.reported.at);
      }
    }
  }

  /** Forgets the deferred state (the transaction rolled back). */
  discardPending(): void {
    this.pending.clear();
    this.softwareAt.clear();
    this.markers.clear();
    this.undo = [];
    this.inventory.forgetCache();
  }

  /** Where the deferred writes stand, to take back what a failed savepoint did (`rollbackTo`). */
  mark(): number {
    return this.undo.length;
  }

  rollbackTo(mark: number): void {
    this.inventory.forgetItems();
    // The savepoint's writes are gone: a marker read after them may be stale.
    this.markers.clear();
    while (this.undo.length > mark) this.undo.pop()?.();
  }

  private restore(hostId: string, probe: DeferredProbe, before: Pending[DeferredProbe]): void {
    const pending = this.pending.get(hostId);
    if (!pending) return;
    if (before) pending[probe] = before;
    else delete pending[probe];
    if (Object.keys(pending).length === 0) this.pending.delete(hostId);
  }

  /** A retired host: its inventory stays (its history) but no longer counts in the fleet's installs. */
  uncountSoftware(hostId: string): void {
    this.inventory.uncount(hostId);
  }

  remove(hostId: string): void {
    this.pending.delete(hostId);
    this.forgetSoftwareMarker(hostId);
    this.forget.run(hostId);
    this.inventory.clear(hostId);
  }

  /**
   * Applies one accepted message to the host's state. Returns the probes whose state changed (what
   * the engine must re-judge) with their new state, and for USB attaches the device that arrived
   * (an occurrence, judged even if it is gone again by the time anyone looks).
   */
  apply(
    hostId: string,
    env: AgentEnvelope,
    at: number,
    classifier?: SoftwareClassifier,
  ): { changed: Probe[]; state: HostState; attached?: UsbDevice; needsSnapshot?: true; software?: SoftwareChange } {
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
          if (value !== undefined) set(probe, this.put(hostId, probe, value as ProbeValue<never>, at, classifier));
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
        const marker = this.marker(hostId);
        const known = marker?.software === SOFTWARE_KNOWN;
        // A diff without a known base cannot rebuild the inventory: ask for a snapshot.
        if (!known) return { changed, state, needsSnapshot: true };
        const change: SoftwareChange = { subjects: new Set(), licensed: false, stale: false };
        // Only subjects with an unapproved or prohibited package can hold a finding; approved and
        // licensed ones matter for the licence count only.
        const note = (c: { status: string | null; subject: string | null } | undefined) => {
          if (!c?.subject) return;
          if (c.status === 'unapproved' || c.status === 'prohibited' || c.status === null) change.subjects.add(c.subject);
          if (c.status === 'licensed') change.licensed = true;
        };
        const diff = this.inventory.applyDiff(
          hostId,
          [...env.body.removed, ...env.body.upgraded.map((u) => u.from)],
          [...env.body.upgraded.map((u) => u.to), ...env.body.installed],
          classifier,
        );
        for (const c of diff.removed) note(c);
        for (const c of diff.installed) note(c);
        // The diff does not change the version the host's packages were judged under.
        change.stale = classifier === undefined || marker?.v !== classifier.version;
        // The inventory stays known: only its time moves, written once per host and transaction.
        if (this.db.inTransaction) {
          const before = this.softwareAt.get(hostId);
          this.softwareAt.set(hostId, at);
          this.undo.push(() => {
            if (before === undefined) this.softwareAt.delete(hostId);
            else this.softwareAt.set(hostId, before);
          });
        } else this.sw.setAt.run(at, hostId);
        changed.push('software');
        return { changed, state, software: change };
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

  /** Whether the host's inventory is known (rows stored), without reading it. */
  isSoftwareKnown(hostId: string): boolean {
    return this.marker(hostId)?.software === SOFTWARE_KNOWN;
  }

  /** The host's software marker (read once per transaction). */
  private marker(hostId: string): { software: string | null; v: number | null } | undefined {
    if (!this.db.inTransaction) return this.softwareMarker.get(hostId);
    if (this.markers.has(hostId)) return this.markers.get(hostId);
    const m = this.softwareMarker.get(hostId);
    this.markers.set(hostId, m);
    return m;
  }

  /**
   * The host's software column is about to be written (a snapshot, a removal): forget its marker,
   * and a diff's time not written yet (what is written now is newer).
   */
  private forgetSoftwareMarker(hostId: string): void {
    this.markers.delete(hostId);
    const before = this.softwareAt.get(hostId);
    if (before === undefined) return;
    this.softwareAt.delete(hostId);
    this.undo.push(() => this.softwareAt.set(hostId, before));
  }

  private readonly softwareMarker;

  /** Every host with some state, for re-evaluating the fleet. */
  hostIds(): string[] {
    return this.db.prepare<[], { host_id: string }>('SELECT host_id FROM host_state ORDER BY host_id').all().map((r) => r.host_id);
  }
}
