import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Host, listEnvelope } from '@vigil/shared';
import { ADMIN_TOKEN, AGENT_BIN, api, COLLECTOR_BIN, freePort, startAgent, startCollector, startProcess, tempDir, until, type Proc } from './support/processes.js';

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});

/** What this machine is, read independently of the agent's code. */
function osRelease(): Record<string, string> {
  const text = fs.readFileSync('/etc/os-release', 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => {
        const i = l.indexOf('=');
        return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, '')];
      }),
  );
}

describe('an agent enrols and reports this machine', () => {
  it('appears in the hosts API with correct OS facts, and says goodbye on SIGTERM', async () => {
    const dataDir = tempDir('collector');
    const stateDir = path.join(tempDir('agent'), 'state');
    const collector = await startCollector({ dataDir, port: await freePort() });
    procs.push(collector);
    const agent = startAgent({ stateDir, url: collector.url });
    procs.push(agent);

    const hosts = listEnvelope(Host);
    const host = await until(async () => {
      const { body } = await api(collector.url, '/api/v1/hosts');
      const page = hosts.parse(body);
      return page.items.find((h) => h.status === 'online' && h.agent.messagesStored >= 1);
    });
    const rel = osRelease();
    expect(host.hostname).toBe(os.hostname());
    expect(host.os).toMatchObject({ platform: process.platform, arch: process.arch, distro: rel.NAME, release: rel.VERSION_ID });
    expect(host.agentVersion).toBe('0.1.0');

    // The token is kept readable by the agent's account only.
    const creds = path.join(stateDir, 'agent.json');
    expect(fs.statSync(creds).mode & 0o777).toBe(0o600);
    expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);

    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const after = await until(async () => {
      const { body } = await api<Host>(collector.url, `/api/v1/hosts/${host.id}`);
      return body.status === 'offline' && body;
    });
    expect(after.lastGoodbye).toBe('stop');

    expect(await collector.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const db = new Database(path.join(dataDir, 'vigil.db'), { readonly: true });
    const types = db.prepare('SELECT type, count(*) AS n FROM messages GROUP BY type ORDER BY type').all();
    db.close();
    expect(types).toEqual([
      { type: 'goodbye', n: 1 },
      { type: 'snapshot', n: 1 },
    ]);
  });

  it('refuses a wrong enrolment secret and keeps no token', async () => {
    const collector = await startCollector({ dataDir: tempDir('collector'), port: await freePort() });
    procs.push(collector);
    const stateDir = tempDir('agent');
    const agent = startAgent({ stateDir, url: collector.url, env: { VIGIL_ENROL_SECRET: 'wrong-secret-wrong-secret' } });
    procs.push(agent);
    const line = await agent.waitForLog((l) => l.msg === 'enrolment failed');
    expect(line.code).toBe('VIGIL_ERR_ENROL_SECRET_INVALID');
    expect(fs.existsSync(path.join(stateDir, 'agent.json'))).toBe(false);
    const { body } = await api<{ items: unknown[] }>(collector.url, '/api/v1/hosts');
    expect(body.items).toHaveLength(0);
    expect(agent.stdout()).not.toContain('wrong-secret-wrong-secret');
  });

  it('prints the facts snapshot without a collector', async () => {
    const p = startProcess(AGENT_BIN, ['collect', '--json'], {});
    expect((await p.exited).code).toBe(0);
    const snapshot = JSON.parse(p.stdout());
    expect(snapshot.host.hostname).toBe(os.hostname());
    expect(snapshot.host.os.platform).toBe(process.platform);
  });

  it('explains bad settings all at once and exits 2', async () => {
    const p = startProcess(AGENT_BIN, ['run', '--collector-url', 'ftp://x', '--reconnect-max-seconds', 'soon'], {});
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toContain('--collector-url (VIGIL_COLLECTOR_URL)');
    expect(p.stderr()).toContain('--reconnect-max-seconds: "soon" is not a number');
  });
});

describe('admin commands', () => {
  it('token create makes a working token; agent revoke cuts the agent off and retires the host', async () => {
    const dataDir = tempDir('collector');
    const collector = await startCollector({ dataDir, port: await freePort() });
    procs.push(collector);

    const create = startProcess(COLLECTOR_BIN, ['token', 'create', '--role', 'analyst', '--name', 'helpdesk', '--data-dir', dataDir], {});
    expect((await create.exited).code).toBe(0);
    const created = JSON.parse(create.stdout()) as { token: string; role: string };
    expect(created.role).toBe('analyst');
    const listed = await fetch(`${collector.url}/api/v1/hosts`, { headers: { authorization: `Bearer ${created.token}` } });
    expect(listed.status).toBe(200);

    const agent = startAgent({ stateDir: tempDir('agent'), url: collector.url });
    procs.push(agent);
    await agent.waitForLog((l) => l.msg === 'connected to the collector');
    const { body } = await api<{ items: Host[] }>(collector.url, '/api/v1/hosts');
    const hostId = body.items[0]?.id as string;

    // An analyst may not revoke: the command says why and exits 1.
    const denied = startProcess(COLLECTOR_BIN, ['agent', 'revoke', hostId, '--url', collector.url, '--token', created.token], {});
    expect((await denied.exited).code).toBe(1);
    expect(denied.stderr()).toContain('VIGIL_ERR_FORBIDDEN');

    const revoke = startProcess(COLLECTOR_BIN, ['agent', 'revoke', hostId, '--url', collector.url], { VIGIL_API_TOKEN: ADMIN_TOKEN });
    expect((await revoke.exited).code).toBe(0);
    expect(JSON.parse(revoke.stdout())).toMatchObject({ id: hostId, status: 'retired' });
    const refused = await agent.waitForLog((l) => l.msg === 'the collector refused the connection');
    expect(refused.code).toBe('VIGIL_ERR_TOKEN_REVOKED');
    expect(agent.logs.some((l) => l.msg === 'disconnected from the collector' && l.code === 4401)).toBe(true);
    const host = await api<Host>(collector.url, `/api/v1/hosts/${hostId}`);
    expect(host.body).toMatchObject({ status: 'retired', agent: { connected: false } });

    const missing = startProcess(COLLECTOR_BIN, ['agent', 'revoke'], { VIGIL_API_TOKEN: ADMIN_TOKEN });
    expect((await missing.exited).code).toBe(2);
  });
});
