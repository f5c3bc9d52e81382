import type { Db } from './database.js';

/**
 * Which licensed catalogue titles each host has installed: one seat per (host, title). Kept in
 * step with each host's software evaluation, so counting a title's installs across the fleet is
 * one indexed query instead of re-reading every inventory.
 */
export class LicencesRepository {
  private readonly ofHost;
  private readonly add;
  private readonly remove;
  private readonly hostsOf;
  private readonly removeAll;

  constructor(private readonly db: Db) {
    this.ofHost = db.prepare<[string], { title: string }>('SELECT title FROM host_licensed_titles WHERE host_id = ?');
    this.add = db.prepare('INSERT INTO host_licensed_titles (host_id, title) VALUES (?, ?) ON CONFLICT DO NOTHING');
    this.remove = db.prepare('DELETE FROM host_licensed_titles WHERE host_id = ? AND title = ?');
    this.hostsOf = db.prepare<[string], { host_id: string }>('SELECT host_id FROM host_licensed_titles WHERE title = ? ORDER BY host_id');
    this.removeAll = db.prepare('DELETE FROM host_licensed_titles WHERE host_id = ?');
  }

  /** Makes the host's titles exactly `titles`; returns the titles added or removed. */
  setHostTitles(hostId: string, titles: ReadonlySet<string>): string[] {
    const before = new Set(this.ofHost.all(hostId).map((r) => r.title));
    const changed: string[] = [];
    for (const t of titles) {
      if (before.has(t)) continue;
      this.add.run(hostId, t);
      changed.push(t);
    }
    for (const t of before) {
      if (titles.has(t)) continue;
      this.remove.run(hostId, t);
      changed.push(t);
    }
    return changed;
  }

  /** Removes a host from every count (retired); returns the titles it held. */
  removeHost(hostId: string): string[] {
    const titles = this.ofHost.all(hostId).map((r) => r.title);
    this.removeAll.run(hostId);
    return titles;
  }

  /** The hosts holding a seat of `title`, sorted. */
  hosts(title: string): string[] {
    return this.hostsOf.all(title).map((r) => r.host_id);
  }

  /** Every title anyone holds a seat of. */
  titles(): string[] {
    return this.db.prepare<[], { title: string }>('SELECT DISTINCT title FROM host_licensed_titles').all().map((r) => r.title);
  }
}
