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
    store.credentials.createApiToken('first-run admin', 'admin', value);
    result.adminToken = { value, generated: input.adminToken === undefined };
  }
  if (store.credentials.countUsers() === 0) {
    const value = input.adminPassword ?? randomBytes(15).toString('base64url');
    store.credentials.createUser('admin', 'admin', await hashPassword(value));
    result.adminPassword = { user: 'admin', value, generated: input.adminPassword === undefined };
  }
  if (input.policyDocument !== undefined) {
    const { version, created } = store.policy.addIfChanged(input.policyDocument, `file:${input.policyFile ?? ''}`, 'VIGIL_POLICY_FILE');
    result.policy = { version: version.version, created };
  }
  return result;
}
