import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTOR_BIN, freePort, startAgent, startCollector, startProcess, tempDir, until, ADMIN_TOKEN, type Proc } from './support/processes.js';

// TLS end to end with certificates made here: the collector serves HTTPS and WSS from configured
// files, the agent verifies them against the CA it was given (pinned), and nothing falls back to
// plaintext.

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});

let dir: string;
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** A CA, and a server certificate for 127.0.0.1 and localhost signed by it. */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name} test CA`, '-keyout', file(`${name}-ca.key`), '-out', file(`${name}-ca.pem`));
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file(`${name}-server.key`), '-out', file(`${name}-server.csr`));
  fs.writeFileSync(file(`${name}-ext.cnf`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', file(`${name}-server.csr`), '-CA', file(`${name}-ca.pem`), '-CAkey', file(`${name}-ca.key`), '-CAcreateserial', '-days', '2', '-extfile', file(`${name}-ext.cnf`), '-out', file(`${name}-server.pem`));
}

beforeAll(() => {
  dir = tempDir('tls');
  makeCa('vigil');
  makeCa('rogue');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** GET over HTTPS trusting only `ca`. */
function get(url: string, pathname: string, ca: Buffer): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${url}${pathname}`, { ca, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
}

async function tlsCollector() {
  const port = await freePort();
  const c = await startCollector({ dataDir: tempDir('collector'), port, args: ['--tls-cert', file('vigil-server.pem'), '--tls-key', file('vigil-server.key')] });
  procs.push(c);
  return c;
}

describe('TLS between agents and the collector', () => {
  it('serves HTTPS/WSS from the configured certificate; an agent pinning its CA enrols and reports over WSS', async () => {
    const c = await tlsCollector();
    expect(c.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = fs.readFileSync(file('vigil-ca.pem'));
    expect((await get(c.url, '/healthz', ca)).status).toBe(200);
    const agent = startAgent({ stateDir: tempDir('agent'), url: c.url, env: { VIGIL_CA_CERT: file('vigil-ca.pem') } });
    procs.push(agent);
    const host = await until(async () => {
      const page = (await get(c.url, '/api/v1/hosts', ca)).body as { items: { status: string; hostname: string }[] };
      return page.items.find((h) => h.status === 'online');
    }, 30_000);
    expect(host.hostname.length).toBeGreaterThan(0);
  }, 60_000);

  it('an agent with no pinned CA, or another CA, refuses the certificate and never enrols; plaintext is not served', async () => {
    const c = await tlsCollector();
    const ca = fs.readFileSync(file('vigil-ca.pem'));
    for (const env of [{}, { VIGIL_CA_CERT: file('rogue-ca.pem') }] as Record<string, string>[]) {
      const agent = startAgent({ stateDir: tempDir('agent'), url: c.url, env });
      procs.push(agent);
      const refused = await agent.waitForLog((l) => /certificate|self.signed|UNABLE_TO_VERIFY|CERT_/i.test(JSON.stringify(l)), 20_000);
      expect(Number(refused.level)).toBeGreaterThanOrEqual(40);
      await agent.kill('SIGKILL');
    }
    expect(((await get(c.url, '/api/v1/hosts', ca)).body as { items: unknown[] }).items).toHaveLength(0);

    // The TLS port does not speak plaintext HTTP.
    const plain = await new Promise<string>((resolve) => {
      const req = http.get(c.url.replace('https:', 'http:') + '/healthz', (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    });
    expect(plain).not.toBe('status 200');
  }, 90_000);

  it('refuses to listen in plaintext on a non-loopback address unless a TLS proxy is declared', async () => {
    const p = startProcess(COLLECTOR_BIN, ['serve', '--host', '0.0.0.0', '--port', '0', '--data-dir', tempDir('collector'), '--log-format', 'json'], {});
    procs.push(p);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toMatch(/non-loopback 0\.0\.0\.0 without TLS/);
  });
});
