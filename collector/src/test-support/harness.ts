import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { agentEnvelope, PROTOCOL_VERSION, type HostFacts } from '@vigil/shared';
import { buildApp, type AppOptions } from '../app.js';
import { openStore, type Store } from '../db/store.js';
import { bootstrap } from '../services/bootstrap.js';

export const ENROL_SECRET = 'test-enrol-secret-0123456789';
export const ADMIN_TOKEN = 'vgt_test-admin-token-0123456789abcdef';

export const hostFacts = (over: Partial<HostFacts> = {}): HostFacts => ({
  hostname: 'ws-0042',
  os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', arch: 'x64', kernel: '6.1.0' },
  hardware: { machineId: '3d1219c7c4c5404aaa1f6d2a48adfda4' },
  addresses: [{ iface: 'eth0', family: 'ipv4', address: '192.0.2.10' }],
  users: [{ name: 'alice', tty: 'tty2' }],
  agentVersion: '0.1.0',
  ...over,
});

export interface Harness {
  app: FastifyInstance;
  store: Store;
  dir: string;
  logs: string[];
  url: string;
  wsUrl: string;
  close(): Promise<void>;
  enrol(facts?: HostFacts): Promise<{ agentId: string; hostId: string; agentToken: string }>;
}

/** A collector on a real SQLite file in a temp dir, listening on loopback. */
export async function startHarness(opts: Partial<AppOptions> = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-collector-'));
  const store = openStore({ dataDir: dir, silentAfterMs: 60_000 });
  await bootstrap(store, { enrolSecret: ENROL_SECRET, adminToken: ADMIN_TOKEN, adminPassword: 'correct horse battery' });
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  // Gateway workers (if any) log to the test's stdout, not to `logs`: only their errors.
  const app = await buildApp({ store, logLevel: 'debug', gatewayLogLevel: 'error', logStream, heartbeatSeconds: 30, ...opts });
  await app.gateway.listen({ host: '127.0.0.1', port: 0 });
  const port = app.gateway.port!;
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    store,
    dir,
    logs,
    url,
    wsUrl: `ws://127.0.0.1:${port}/agent/v1`,
    async close() {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async enrol(facts = hostFacts()) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/enrol', payload: { secret: ENROL_SECRET, host: facts } });
      if (res.statusCode !== 201) throw new Error(`enrol failed: ${res.body}`);
      return res.json();
    },
  };
}

/** A raw agent connection that records every frame it receives. */
export class TestAgent {
  readonly frames: { type: string; body: Record<string, unknown> }[] = [];
  closeCode: number | undefined;
  private seq = 0;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.frames.push(JSON.parse(String(d)));
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  static async connect(
    wsUrl: string,
    token: string,
    hello?: { agentId: string; hostId?: string; protocolVersion?: number; instanceId?: string; lastSeq?: number },
  ): Promise<TestAgent> {
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const a = new TestAgent(ws);
    if (hello) {
      a.sendRaw(
        JSON.stringify(
          agentEnvelope('hello', 0, {
            protocolVersion: hello.protocolVersion ?? PROTOCOL_VERSION,
            agentVersion: '0.1.0',
            agentId: hello.agentId,
            ...(hello.hostId ? { hostId: hello.hostId } : {}),
            ...(hello.instanceId ? { instanceId: hello.instanceId } : {}),
            ...(hello.lastSeq === undefined ? {} : { lastSeq: hello.lastSeq }),
          }),
        ),
      );
      await a.waitFor((f) => f.type === 'config' || a.closeCode !== undefined);
    }
    return a;
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** Send a message with the next seq; returns its envelope. */
  send<T extends Parameters<typeof agentEnvelope>[0]>(type: T, body: Parameters<typeof agentEnvelope<T>>[2]) {
    const env = agentEnvelope(type, ++this.seq, body);
    this.sendRaw(JSON.stringify(env));
    return env;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  async waitFor(pred: (f: { type: string; body: Record<string, unknown> }, index: number) => boolean, timeoutMs = 5000): Promise<{ type: string; body: Record<string, unknown> }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.find(pred);
      if (hit) return hit;
      if (this.closeCode !== undefined) return { type: 'closed', body: { code: this.closeCode } };
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; frames: ${JSON.stringify(this.frames).slice(0, 1000)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async waitForAck(upToSeq: number) {
    return this.waitFor((f) => f.type === 'ack' && (f.body.upToSeq as number) >= upToSeq);
  }

  async waitClosed(timeoutMs = 5000): Promise<number> {
    await this.waitFor(() => false, timeoutMs).catch(() => undefined);
    if (this.closeCode === undefined) throw new Error('socket did not close');
    return this.closeCode;
  }

  close() {
    this.ws.close();
  }
}
