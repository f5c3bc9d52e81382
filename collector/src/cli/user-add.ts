import { Role } from '@vigil/shared';
import { CLI_ACTOR } from '../audit/actions.js';
import { openStore } from '../db/store.js';
import { hashPassword } from '../services/secrets.js';

/** Who may be a user: a short name that reads the same in logs, the audit log and the dashboard. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;

/** Problems with a new user's name, role and password (every one, not the first). */
export function checkNewUser(name: unknown, role: unknown, password: string | undefined): string[] {
  const errors: string[] = [];
  if (typeof name !== 'string' || !name) errors.push('user add: give the user name');
  else if (!USER_NAME.test(name)) errors.push(`user add: a name is 1 to 64 letters, digits and . _ @ -, starting with a letter or digit (got ${JSON.stringify(name.slice(0, 80))})`);
  if (!Role.safeParse(role).success) errors.push(`--role: must be one of ${Role.options.join(', ')}`);
  if (password !== undefined) {
    if (password.length < PASSWORD_MIN) errors.push(`the password must be at least ${PASSWORD_MIN} characters`);
    if (password.length > PASSWORD_MAX) errors.push(`the password must be at most ${PASSWORD_MAX} characters`);
  }
  return errors;
}

/**
 * `vigil-collector user add --role R <name>`: a local user who logs in to the dashboard, with the
 * password hashed (scrypt) before it is stored. Works on the data directory directly, like `token
 * create`; the password comes from the caller (a prompt or stdin, see main.ts), never from a flag.
 */
export async function userAdd(opts: { dataDir: string; name: string; role: Role; password: string }): Promise<{ ok: true; text: string } | { ok: false; errors: string[] }> {
  const errors = checkNewUser(opts.name, opts.role, opts.password);
  if (errors.length) return { ok: false, errors };
  const hash = await hashPassword(opts.password);
  const store = openStore({ dataDir: opts.dataDir, silentAfterMs: 0 });
  try {
    if (store.credentials.userExists(opts.name)) return { ok: false, errors: [`user add: there is already a user named ${opts.name}`] };
    const id = store.transaction(() => {
      const created = store.credentials.createUser(opts.name, opts.role, hash);
      store.audit.append({ actor: CLI_ACTOR, action: 'user.created', subject: `user:${opts.name}`, details: { role: opts.role } });
      return created;
    });
    return { ok: true, text: `${JSON.stringify({ id, name: opts.name, role: opts.role })}\n` };
  } finally {
    store.close();
  }
}
