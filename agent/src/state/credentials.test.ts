import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureStateDir, loadCredentials, saveCredentials } from './credentials.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const stateDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-creds-'));
  dirs.push(d);
  ensureStateDir(d);
  return d;
};

describe('agent credentials', () => {
  it('round-trips and keeps the file readable by the owner only', () => {
    const dir = stateDir();
    const creds = { agentId: '01a2086c-7e5f-7e0e-b658-b2c47da3b506', hostId: '01a2086c-7e5f-7070-b4d8-2974215f09e8', agentToken: `vga_${'a'.repeat(43)}`, collectorUrl: 'http://127.0.0.1:8470', enrolledAt: '2026-11-23T12:00:00.000Z' };
    saveCredentials(dir, creds);
    expect(loadCredentials(dir)).toEqual(creds);
    expect(fs.statSync(path.join(dir, 'agent.json')).mode & 0o777).toBe(0o600);
  });

  it('says plainly that a damaged file must be removed, for invalid JSON and for a wrong shape', () => {
    const dir = stateDir();
    expect(loadCredentials(dir)).toBeUndefined();
    for (const text of ['{"agentId": ', '{"agentId": "x"}']) {
      fs.writeFileSync(path.join(dir, 'agent.json'), text);
      expect(() => loadCredentials(dir)).toThrow(/agent\.json is damaged; remove it to enrol again/);
    }
  });
});
