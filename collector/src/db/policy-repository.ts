import { createHash } from 'node:crypto';
import type { Db } from './database.js';

export interface PolicyVersion {
  version: number;
  sha256: string;
  source: string;
  createdBy: string;
  createdAt: string;
}

interface Row {
  version: number;
  sha256: string;
  source: string;
  created_by: string;
  created_at: number;
}

const toVersion = (r: Row): PolicyVersion => ({
  version: r.version,
  sha256: r.sha256,
  source: r.source,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at).toISOString(),
});

/** Versioned policy documents: a new version only when the content differs from the current one. */
export class PolicyRepository {
  constructor(private readonly db: Db) {}

  current(): PolicyVersion | undefined {
    const row = this.db
      .prepare('SELECT version, sha256, source, created_by, created_at FROM policy_versions ORDER BY version DESC LIMIT 1')
      .get() as Row | undefined;
    return row && toVersion(row);
  }

  /** The version in force with its document as written, or undefined before any was stored. */
  currentDocument(): (PolicyVersion & { document: string }) | undefined {
    const row = this.db
      .prepare('SELECT version, sha256, source, created_by, created_at, document FROM policy_versions ORDER BY version DESC LIMIT 1')
      .get() as (Row & { document: string }) | undefined;
    return row && { ...toVersion(row), document: row.document };
  }

  /** One stored version with its document. */
  getVersion(version: number): (PolicyVersion & { document: string }) | undefined {
    const row = this.db
      .prepare('SELECT version, sha256, source, created_by, created_at, document FROM policy_versions WHERE version = ?')
      .get(version) as (Row & { document: string }) | undefined;
    return row && { ...toVersion(row), document: row.document };
  }

  /** Versions newest first, `limit` at a time, before `beforeVersion`. */
  list(limit: number, beforeVersion?: number): PolicyVersion[] {
    const rows = this.db
      .prepare('SELECT version, sha256, source, created_by, created_at FROM policy_versions WHERE version < ? ORDER BY version DESC LIMIT ?')
      .all(beforeVersion ?? Number.MAX_SAFE_INTEGER, limit) as Row[];
    return rows.map(toVersion);
  }

  /** Record `document` as the new version unless it equals the current one. Returns the version in force. */
  addIfChanged(document: string, source: string, createdBy: string, now = Date.now()): { version: PolicyVersion; created: boolean } {
    const sha256 = createHash('sha256').update(document, 'utf8').digest('hex');
    return this.db.transaction(() => {
      const cur = this.current();
      if (cur?.sha256 === sha256) return { version: cur, created: false };
      const version = (cur?.version ?? 0) + 1;
      this.db
        .prepare('INSERT INTO policy_versions (version, sha256, document, source, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(version, sha256, document, source, createdBy, now);
      return { version: { version, sha256, source, createdBy, createdAt: new Date(now).toISOString() }, created: true };
    })();
  }
}
