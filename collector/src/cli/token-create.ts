import { Role } from '@vigil/shared';
import { CLI_ACTOR } from '../audit/actions.js';
import { openStore } from '../db/store.js';

/**
 * `vigil-collector token create --role R [--name N]`: works on the data directory directly
 * (SQLite in WAL mode takes a second writer), so it also works when no admin token is at hand.
 */
export function tokenCreate(opts: { dataDir: string; role: unknown; name: unknown }): { ok: true; text: string } | { ok: false; errors: string[] } {
  const role = Role.safeParse(opts.role);
  const errors: string[] = [];
  if (!role.success) errors.push(`--role: must be one of ${Role.options.join(', ')}`);
  const name = typeof opts.name === 'string' && opts.name.length > 0 ? opts.name : `${String(opts.role)} token`;
  if (name.length > 128) errors.push('--name: at most 128 characters');
  if (errors.length || !role.success) return { ok: false, errors };
  const store = openStore({ dataDir: opts.dataDir, silentAfterMs: 0 });
  try {
    const { id, token } = store.transaction(() => {
      const created = store.credentials.createApiToken(name, role.data);
      store.audit.append({ actor: CLI_ACTOR, action: 'token.created', subject: `api-token:${created.id}`, details: { name, role: role.data } });
      return created;
    });
    return { ok: true, text: `${JSON.stringify({ id, name, role: role.data, token })}\n` };
  } finally {
    store.close();
  }
}
