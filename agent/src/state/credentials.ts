import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** What enrolment gave this agent. Kept in the state directory, readable by the agent's account only. */
export const Credentials = z.object({
  agentId: z.uuid(),
  hostId: z.uuid(),
  agentToken: z.string().min(32),
  collectorUrl: z.string(),
  enrolledAt: z.string(),
});
export type Credentials = z.infer<typeof Credentials>;

const FILE = 'agent.json';

export function ensureStateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is masked and ignored for an existing directory: set it explicitly.
  if (process.platform !== 'win32') fs.chmodSync(dir, 0o700);
}

export function loadCredentials(dir: string): Credentials | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = Credentials.safeParse(json);
  if (!parsed.success) throw new Error(`${path.join(dir, FILE)} is damaged; remove it to enrol again`);
  return parsed.data;
}

/** Written atomically with mode 0600 (tmp, fsync, rename). */
export function saveCredentials(dir: string, creds: Credentials): void {
  const file = path.join(dir, FILE);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(creds, null, 2));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function removeCredentials(dir: string): void {
  fs.rmSync(path.join(dir, FILE), { force: true });
}
