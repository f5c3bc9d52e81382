import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, COLLECTOR_BIN, ENROL_SECRET, freePort, startAgent, startCollector, startProcess, tempDir, until, type Proc } from './support/processes.js';

// Every secret the system handles, driven through the real binaries at debug level (right and
// wrong ones: a bad enrolment secret, a wrong password, a forged token), then every line both
// processes wrote is searched for each of them, and so is every byte of the collector's data
// directory (secrets are kept there only as hashes).

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});

const PASSWORD = 'correct horse battery staple 42';
const WRONG_PASSWORD = 'wrong horse battery staple 43';
const FORGED = 'vgt_forged-Qx7mZ2pL9sK4wR8nT1vB6yH3cJ5dF0gA';
const WRONG_SECRET = 'wrong-enrol-secret-Lk3Vb8Nq2Wz6Xe1Rt9Yu';

describe('logs', () => {
  it('never carry a secret, nor does the database: enrolment secrets, API and agent tokens, passwords, session cookies and CSRF tokens', async () => {
    const dataDir = tempDir('collector');
    const port = await freePort();
    const c = await startCollector({ dataDir, port, args: ['--log-level', 'debug'], env: { VIGIL_ADMIN_PASSWORD: PASSWORD } });
    procs.push(c);
    const stateDir = tempDir('agent');
    const agent = startAgent({ stateDir, url: c.url, args: ['--log-level', 'debug'] });
    procs.push(agent);
    await c.waitForLog((l) => l.msg === 'agent connected', 30_000);

    // The wrong ones too: they must not be logged either.
    expect((await fetch(`${c.url}/api/v1/enrol`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: WRONG_SECRET, host: { hostname: 'x' } }) })).status).toBeGreaterThanOrEqual(400);
    expect((await fetch(`${c.url}/api/v1/hosts`, { headers: { authorization: `Bearer ${FORGED}` } })).status).toBe(401);
    expect((await fetch(`${c.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: WRONG_PASSWORD }) })).status).toBe(401);
    const login = await fetch(`${c.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: PASSWORD }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const session = (await login.json()) as { csrfToken: string };
    expect((await fetch(`${c.url}/api/v1/alerts`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${c.url}/api/v1/hosts`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    // A token made by the CLI: printed once to its own stdout (that is the point), never logged by the collector.
    const made = startProcess(COLLECTOR_BIN, ['token', 'create', '--role', 'auditor', '--data-dir', dataDir], {});
    await made.exited;
    const cliToken = /vgt_[A-Za-z0-9_-]+/.exec(made.stdout())?.[0];
    expect(cliToken).toBeDefined();
    expect((await fetch(`${c.url}/api/v1/hosts`, { headers: { authorization: `Bearer ${cliToken}` } })).status).toBe(200);

    const creds = await until(async () => {
      const f = fs.readdirSync(stateDir).map((n) => path.join(stateDir, n)).find((p) => fs.statSync(p).isFile() && fs.readFileSync(p, 'utf8').includes('agentToken'));
      return f ? (JSON.parse(fs.readFileSync(f, 'utf8')) as { agentToken: string }) : undefined;
    });
    await agent.kill('SIGTERM');
    await c.kill('SIGTERM');

    const secrets: Record<string, string> = {
      'enrolment secret': ENROL_SECRET,
      'wrong enrolment secret': WRONG_SECRET,
      'admin API token': ADMIN_TOKEN,
      'forged token': FORGED,
      'CLI-made token': cliToken!,
      'agent token': creds.agentToken,
      password: PASSWORD,
      'wrong password': WRONG_PASSWORD,
      'session cookie': cookie.split('=')[1]!,
      'CSRF token': session.csrfToken,
    };
    // At rest too: every file in the collector's data directory (database, WAL, anything else),
    // read as bytes, holds no secret in clear — tokens and sessions are stored as hashes only.
    const atRest = fs.readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
    expect(atRest.some((f) => f.endsWith('.sqlite') || f.endsWith('.db'))).toBe(true);
    const written = { collector: c.stdout() + c.stderr(), agent: agent.stdout() + agent.stderr(), 'data directory': atRest.map((f) => fs.readFileSync(f).toString('latin1')).join('\n') };
    expect(written.collector.split('\n').length).toBeGreaterThan(20);
    for (const [proc, text] of Object.entries(written)) {
      for (const [what, secret] of Object.entries(secrets)) {
        expect(secret.length, what).toBeGreaterThan(12);
        // The whole secret, and any 16-character piece of it (a truncated or prefixed copy).
        expect(text.includes(secret), `${what} in the ${proc}'s logs`).toBe(false);
        for (let i = 0; i + 16 <= secret.length; i += 8) expect(text.includes(secret.slice(i, i + 16)), `part of the ${what} in the ${proc}'s logs`).toBe(false);
      }
    }
  }, 90_000);
});
