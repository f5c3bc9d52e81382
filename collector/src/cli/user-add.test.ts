import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../db/store.js';
import { verifyPassword } from '../services/secrets.js';
import { passwordFromStream, readPassword } from './password-input.js';
import { userAdd } from './user-add.js';

const BIN = fileURLToPath(new URL('../../bin/vigil-collector.js', import.meta.url));
const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-user-add-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function stored(dataDir: string, name: string) {
  const store = openStore({ dataDir, silentAfterMs: 0 });
  try {
    const user = store.db.prepare('SELECT name, role, password_hash FROM users WHERE name = ?').get(name) as { name: string; role: string; password_hash: string } | undefined;
    const audit = store.db.prepare("SELECT actor, subject, details FROM audit_log WHERE action = 'user.created'").all() as { actor: string; subject: string; details: string }[];
    return { user, audit };
  } finally {
    store.close();
  }
}

describe('user add', () => {
  it('stores the user with a scrypt hash of the password, audited without it, and refuses a second with the same name', async () => {
    const dataDir = tempDir();
    const r = await userAdd({ dataDir, name: 'alice', role: 'analyst', password: 'correct horse battery' });
    expect(r).toMatchObject({ ok: true });
    const { user, audit } = stored(dataDir, 'alice');
    expect(user).toMatchObject({ name: 'alice', role: 'analyst' });
    expect(user!.password_hash).toMatch(/^scrypt\$/);
    expect(user!.password_hash).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', user!.password_hash)).toBe(true);
    expect(await verifyPassword('correct horse batterz', user!.password_hash)).toBe(false);
    expect(audit).toEqual([{ actor: 'cli', subject: 'user:alice', details: JSON.stringify({ role: 'analyst' }) }]);
    expect(await userAdd({ dataDir, name: 'alice', role: 'admin', password: 'another long password' })).toEqual({ ok: false, errors: ['user add: there is already a user named alice'] });
  });

  it('lists every problem with the name, role and password at once', async () => {
    const r = await userAdd({ dataDir: tempDir(), name: '<script>', role: 'root' as never, password: 'short' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors).toHaveLength(3);
  });

  it('reads the password from stdin up to the first newline, and never from a terminal it does not have', async () => {
    expect(await passwordFromStream(Readable.from([Buffer.from('correct horse'), Buffer.from(' battery\r\nignored\n')]))).toEqual({ ok: true, value: 'correct horse battery' });
    expect(await passwordFromStream(Readable.from([Buffer.from('\n')]))).toMatchObject({ ok: false });
    expect(await passwordFromStream(Readable.from([Buffer.alloc(70 * 1024, 'a')]))).toMatchObject({ ok: false });
    const notTty = Object.assign(Readable.from([]), { isTTY: false }) as unknown as NodeJS.ReadStream;
    expect(await readPassword({ fromStdin: false, prompt: 'password', input: notTty })).toEqual({
      ok: false,
      errors: ['no terminal to ask for the password on: give it on standard input with --password-stdin'],
    });
  });

  it('works as a command: password on stdin, exit 0 / 1 (exists) / 2 (bad input)', () => {
    const dataDir = tempDir();
    const run = (args: string[], input: string) => spawnSync(process.execPath, [BIN, 'user', 'add', '--data-dir', dataDir, ...args], { input, encoding: 'utf8' });
    const ok = run(['--role', 'auditor', '--password-stdin', 'carol'], 'a long enough password\n');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name: 'carol', role: 'auditor' });
    expect(ok.stdout + ok.stderr).not.toContain('a long enough password');
    expect(run(['--role', 'auditor', '--password-stdin', 'carol'], 'a long enough password\n').status).toBe(1);
    const short = run(['--role', 'auditor', '--password-stdin', 'dave'], 'short\n');
    expect(short.status).toBe(2);
    expect(short.stderr).toContain('at least 12 characters');
    const noTty = run(['--role', 'auditor', 'dave'], '');
    expect(noTty.status).toBe(2);
    expect(noTty.stderr).toContain('--password-stdin');
    expect(stored(dataDir, 'dave').user).toBeUndefined();
    // Four real processes, one after another: seconds each on a loaded 2-core machine.
  }, 30_000);
});
