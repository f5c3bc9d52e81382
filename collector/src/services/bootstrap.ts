import type { Store } from '../db/store.js';
import { generateSecret, hashPassword } from './secrets.js';
import { randomBytes } from 'node:crypto';

export interface BootstrapInput {
  adminToken?: string | undefined;
  adminPassword?: string | undefined;
  enrolSecret?: string | undefined;
  policyDocument?: string | undefined;
  policyFile?: string | undefined;
}

/** Secrets created on this start; each is shown once and kept only hashed. */
export interface BootstrapResult {
  enrolSecret?: { value: string; generated: boolean };
  adminToken?: { value: string; generated: boolean };
  adminPassword?: { user: string; value: string; generated: boolean };
  policy?: { version: number; created: boolean };
}

/**
 * First run: the first enrolment secret, an admin API token and the first admin user. Later
 * runs change nothing except a new policy version when the policy file differs.
 */
export async function bootstrap(store: Store, input: BootstrapInput): Promise<BootstrapResult> {
  const result: BootstrapResult = {};
  if (store.credentials.countEnrolSecrets() === 0) {
    const value = input.enrolSecret ?? generateSecret('enrol');
    store.credentials.createEnrolSecret('default', [], value);
    result.enrolSecret = { value, generated: input.enrolSecret === undefined };
  }
  if (store.credentials.countApiTokens('admin') === 0) {
    const value = input.adminToken ?? generateSecret('api');
    const token = store.credentials.createApiToken('first-run admin', 'admin', value);
    store.audit.append({ actor: 'vigil-collector', action: 'token.created', subject: token.id, details: { name: 'first-run admin', role: 'admin', firstRun: true } });
    result.adminToken = { value, generated: input.adminToken === undefined };
  }
  if (store.credentials.countUsers() === 0) {
    const value = input.adminPassword ?? randomBytes(15).toString('base64url');
    const hash = await hashPassword(value);
    store.transaction(() => {
      store.credentials.createUser('admin', 'admin', hash);
      store.audit.append({ actor: 'vigil-collector', action: 'user.created', subject: 'user:admin', details: { role: 'admin', firstRun: true } });
    });
    result.adminPassword = { user: 'admin', value, generated: input.adminPassword === undefined };
  }
  if (input.policyDocument !== undefined) {
    const source = `file:${input.policyFile ?? ''}`;
    const { version, created } = store.transaction(() => {
      const r = store.policy.addIfChanged(input.policyDocument ?? '', source, 'VIGIL_POLICY_FILE');
      if (r.created) store.audit.append({ actor: 'VIGIL_POLICY_FILE', action: 'policy.changed', subject: `policy:${r.version.version}`, details: { version: r.version.version, sha256: r.version.sha256, source } });
      return r;
    });
    result.policy = { version: version.version, created };
  }
  return result;
}
