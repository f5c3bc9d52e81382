import type { Role } from '@vigil/shared';
import { uuidv7 } from '@vigil/shared';
import { generateSecret, sha256 } from '../services/secrets.js';
import type { Db } from './database.js';
import { parseJsonColumn } from './json-column.js';

export interface EnrolSecretRecord {
  id: string;
  name: string;
  groups: string[];
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
