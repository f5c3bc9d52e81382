import type { Role } from '@vigil/shared';
import { uuidv7 } from '@vigil/shared';
import { generateSecret, sha256 } from '../services/secrets.js';
import { csrfTokenFor } from '../services/user-sessions.js';
import type { Db } from './database.js';
import { parseJsonColumn } from './json-column.js';

export interface EnrolSecretRecord {
  id: string;
  name: string;
  groups: string[];
}

export interface UserRecord {
  id: string;
  name: string;
  role: Role;
  passwordHash: string;
  disabled: boolean;
}

export interface UserSessionRecord {
  userId: string;
  name: string;
  role: Role;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  disabled: boolean;
}

export interface ApiTokenRecord {
  id: string;
  name: string;
  role: Role;
  revoked: boolean;
}

/** Enrolment secrets, API tokens and users: everything a person or script authenticates with. */
export class CredentialsRepository {
  private readonly secretByHash;
  private readonly tokenByHash;
  private readonly insertSecret;
  private readonly insertToken;

  constructor(private readonly db: Db) {
    this.secretByHash = db.prepare<[Buffer], { id: string; name: string; groups: string }>(
      'SELECT id, name, groups FROM enrol_secrets WHERE secret_hash = ? AND revoked_at IS NULL',
    );
    this.tokenByHash = db.prepare<[Buffer], { id: string; name: string; role: Role; revoked_at: number | null }>(
      'SELECT id, name, role, revoked_at FROM api_tokens WHERE token_hash = ?',
    );
    this.insertSecret = db.prepare(
      'INSERT INTO enrol_secrets (id, name, secret_hash, groups, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.insertToken = db.prepare(
      'INSERT INTO api_tokens (id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)',
    );
  }

  countEnrolSecrets(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM enrol_secrets').get() as { n: number }).n;
  }

  /** Create an enrolment secret; a given secret is used as is (first run with VIGIL_ENROL_SECRET). */
  createEnrolSecret(name: string, groups: string[], secret = generateSecret('enrol')): { id: string; secret: string } {
    const id = uuidv7();
    this.insertSecret.run(id, name, sha256(secret), JSON.stringify(groups), Date.now());
    return { id, secret };
  }

  findEnrolSecret(secret: string): EnrolSecretRecord | undefined {
    const row = this.secretByHash.get(sha256(secret));
    return row && { id: row.id, name: row.name, groups: parseJsonColumn<string[]>(row.groups, []) };
  }

  countApiTokens(role?: Role): number {
    const sql = role ? 'SELECT count(*) AS n FROM api_tokens WHERE role = ?' : 'SELECT count(*) AS n FROM api_tokens';
    return (this.db.prepare(sql).get(...(role ? [role] : [])) as { n: number }).n;
  }

  createApiToken(name: string, role: Role, token = generateSecret('api')): { id: string; token: string } {
    const id = uuidv7();
    this.insertToken.run(id, name, role, sha256(token), Date.now());
    return { id, token };
  }

  findApiToken(token: string): ApiTokenRecord | undefined {
    const row = this.tokenByHash.get(sha256(token));
    return row && { id: row.id, name: row.name, role: row.role, revoked: row.revoked_at !== null };
  }

  countUsers(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  findUser(name: string): UserRecord | undefined {
    const row = this.db.prepare('SELECT id, name, role, password_hash, disabled_at FROM users WHERE name = ?').get(name) as
      | { id: string; name: string; role: Role; password_hash: string; disabled_at: number | null }
      | undefined;
    return row && { id: row.id, name: row.name, role: row.role, passwordHash: row.password_hash, disabled: row.disabled_at !== null };
  }

  // --- dashboard sessions (the cookie value is never stored, only its SHA-256)

  /** The CSRF token is derived from the id (`csrfTokenFor`), not stored: `csrf_token` is empty. */
  createSession(sessionId: string, userId: string, now: number, expiresAt: number): void {
    this.db
      .prepare("INSERT INTO user_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES (?, ?, '', ?, ?, ?)")
      .run(sha256(sessionId), userId, now, now, expiresAt);
  }

  findSession(sessionId: string): UserSessionRecord | undefined {
    const row = this.db
      .prepare(
        `SELECT s.user_id, u.name, u.role, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, u.disabled_at
         FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
      )
      .get(sha256(sessionId)) as
      | { user_id: string; name: string; role: Role; csrf_token: string; created_at: number; last_seen_at: number; expires_at: number; disabled_at: number | null }
      | undefined;
    return (
      row && {
        userId: row.user_id,
        name: row.name,
        role: row.role,
        // Sessions made before tokens were derived keep the one they were given until they end.
        csrfToken: row.csrf_token || csrfTokenFor(sessionId),
        createdAt: row.created_at,
        lastSeenAt: row.last_seen_at,
        expiresAt: row.expires_at,
        disabled: row.disabled_at !== null,
      }
    );
  }

  touchSession(sessionId: string, now: number): void {
    this.db.prepare('UPDATE user_sessions SET last_seen_at = ? WHERE id_hash = ?').run(now, sha256(sessionId));
  }

  deleteSession(sessionId: string): boolean {
    return this.db.prepare('DELETE FROM user_sessions WHERE id_hash = ?').run(sha256(sessionId)).changes > 0;
  }

  /** Sessions past their end or idle since `idleBefore`. */
  purgeSessions(now: number, idleBefore: number): number {
    return this.db.prepare('DELETE FROM user_sessions WHERE expires_at <= ? OR last_seen_at < ?').run(now, idleBefore).changes;
  }

  userExists(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM users WHERE name = ?').get(name) !== undefined;
  }

  createUser(name: string, role: Role, passwordHash: string): string {
    const id = uuidv7();
    this.db
      .prepare('INSERT INTO users (id, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, name, role, passwordHash, Date.now());
    return id;
  }
}
