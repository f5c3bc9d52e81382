import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentEnvelope } from '@vigil/shared';
import { sandiskStick } from '../policy/test-support/usb-devices.js';
import { ADMIN_TOKEN, startHarness, TestAgent, type Harness } from '../test-support/harness.js';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** One sample line of the Prometheus text format: `name{a="x",b="y"} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small parser of the text exposition format (comments skipped, label values unescaped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    const body = m[2] ?? '';
    let end = 0;
    let l: RegExpExecArray | null;
    while ((l = labelRe.exec(body))) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
      end = labelRe.lastIndex;
    }
    if (end !== body.length) throw new Error(`bad labels: ${line}`);
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

class Scrape {
  constructor(readonly samples: Sample[]) {}

  /** The value of the one sample with exactly these labels (undefined when absent). */
  get(name: string, labels: Record<string, string> = {}): number | undefined {
    const hits = this.samples.filter((s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (hits.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${hits.length} samples`);
    return hits[0]?.value;
  }

  all(name: string): Sample[] {
    return this.samples.filter((s) => s.name === name);
  }
}

async function scrape(h: Harness): Promise<Scrape> {
  const res = await h.app.inject({ url: '/metrics', headers: auth });
  expect(res.statusCode).toBe(200);
  return new Scrape(parseExposition(res.body));
}

async function until<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const heartbeat = (pending: number, dropped: number) => ({
  counters: { produced: 10, sent: 9, acknowledged: 8, rejected: 1, dropped },
  droppedByType: { heartbeat: dropped },
  outbox: { pending, bytes: 100 * pending },
  uptimeSeconds: 60,
});
const sessions = { sessions: [{ id: '2', user: 'alice', locked: false, idle: false, remote: false, seat: 'seat0' }] };

let h: Harness;
let agent: { agentId: string; hostId: string; agentToken: string };

beforeEach(async () => {
  h = await startHarness({ evaluationTickMs: 3_600_000, notifications: { dispatch: false } });
  agent = await h.enrol();
});
afterEach(async () => h.close());

describe('GET /metrics', () => {
  it('needs an API token of any role and answers in the Prometheus text format', async () => {
    expect((await h.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const forged = await h.app.inject({ url: '/metrics', headers: { authorization: 'Bearer vgt_forged-token-000000000000000000' } });
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({ error: { code: 'VIGIL_ERR_TOKEN_INVALID' } });
    // An agent token is not an API token.
    expect((await h.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${agent.agentToken}` } })).statusCode).toBe(401);

    const { token } = h.store.credentials.createApiToken('prometheus', 'auditor');
    // The CPU counters count from when the app's metrics were set up; with tick-based accounting a
    // short test may not have been charged any yet: spend some first, as the kernel counts it.
    for (const start = process.cpuUsage().user; process.cpuUsage().user - start < 20_000; );
    const res = await h.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const s = new Scrape(parseExposition(res.body));
    // Process metrics carry the prefix too.
    expect(s.get('vigil_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(s.get('vigil_agents_connected')).toBe(0);
  });

  it('counts exactly the frames, messages and rejections an agent sent', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId, hostId: agent.hostId });
    a.send('heartbeat', heartbeat(7, 2));
    a.send('session.state', sessions);
    a.send('session.state', sessions);
    // Fails its schema: acknowledged as rejected.
    a.sendRaw(JSON.stringify({ ...agentEnvelope('usb.attached', a.nextSeq(), { device: sandiskStick, present: false }), body: { device: { key: 'x' } } }));
    await a.waitForAck(4);

    const s = await scrape(h);
    expect(s.get('vigil_agent_connections_total')).toBe(1);
    expect(s.get('vigil_agent_disconnections_total')).toBe(0);
    expect(s.get('vigil_agents_connected')).toBe(1);
    expect(s.get('vigil_agent_frames_received_total', { type: 'hello' })).toBe(1);
    expect(s.get('vigil_agent_frames_received_total', { type: 'heartbeat' })).toBe(1);
    expect(s.get('vigil_agent_frames_received_total', { type: 'session.state' })).toBe(2);
    expect(s.get('vigil_agent_frames_received_total', { type: 'usb.attached' })).toBe(1);
    expect(s.get('vigil_agent_frames_received_total', { type: 'snapshot' })).toBe(0);
    expect(s.get('vigil_agent_frames_received_total', { type: 'other' })).toBe(0);
    expect(s.all('vigil_agent_frames_rejected_total')).toEqual([{ name: 'vigil_agent_frames_rejected_total', labels: { code: 'VIGIL_ERR_MESSAGE_INVALID' }, value: 1 }]);
    // What the agent received, counted on its side.
    const received = (type: string) => a.frames.filter((f) => f.type === type).length;
    expect(s.get('vigil_agent_frames_sent_total', { type: 'config' })).toBe(1);
    expect(s.get('vigil_agent_frames_sent_total', { type: 'error' })).toBe(1);
    expect(s.get('vigil_agent_frames_sent_total', { type: 'ack' })).toBe(received('ack'));
    expect(received('ack')).toBeGreaterThan(0);

    expect(s.get('vigil_ingest_messages_total', { result: 'stored' })).toBe(3);
    expect(s.get('vigil_ingest_messages_total', { result: 'rejected' })).toBe(1);
    expect(s.get('vigil_ingest_messages_total', { result: 'duplicate' })).toBe(0);
    expect(s.get('vigil_ingest_failed_batches_total')).toBe(0);
    expect(s.get('vigil_ingest_batch_size_sum')).toBe(4);
    const batches = s.get('vigil_ingest_batch_size_count');
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(s.get('vigil_ingest_batch_seconds_count')).toBe(batches);
    expect(s.get('vigil_ingest_batch_size_bucket', { le: '+Inf' })).toBe(batches);
    expect(s.get('vigil_ingest_queue_length')).toBe(0);
    expect(s.get('vigil_agent_outbox_pending')).toBe(7);
    expect(s.get('vigil_agent_messages_dropped')).toBe(2);

    // A resend after a lost ack is a duplicate.
    a.close();
    await a.waitClosed();
    const b = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    b.sendRaw(JSON.stringify(agentEnvelope('session.state', 5, sessions)));
    await b.waitForAck(5);
    const dup = agentEnvelope('session.state', 6, sessions);
    b.sendRaw(JSON.stringify(dup));
    await b.waitForAck(6);
    b.sendRaw(JSON.stringify(dup));
    await until(async () => b.frames.filter((f) => f.type === 'ack').length === 3);
    const t = await scrape(h);
    expect(t.get('vigil_ingest_messages_total', { result: 'stored' })).toBe(5);
    expect(t.get('vigil_ingest_messages_total', { result: 'duplicate' })).toBe(1);
    expect(t.get('vigil_agent_connections_total')).toBe(2);
    expect(t.get('vigil_agent_disconnections_total')).toBe(1);
    // The outbox gauges cover connected agents only; this one has not sent a heartbeat yet.
    expect(t.get('vigil_agent_outbox_pending')).toBe(0);
    b.close();
    await b.waitClosed();
    const u = await until(async () => {
      const x = await scrape(h);
      return x.get('vigil_agents_connected') === 0 && x;
    });
    expect(u.get('vigil_agent_disconnections_total')).toBe(2);
  });

  it('labels frames of unknown types as other, never with what the agent sent', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    a.sendRaw(JSON.stringify({ ...agentEnvelope('goodbye', a.nextSeq(), { reason: 'stop' }), type: 'made.up-type' }));
    a.sendRaw('not json at all');
    a.sendRaw(Buffer.from([1, 2, 3]), true);
    await a.waitForAck(1);
    await a.waitFor((f) => f.type === 'error' && f.body.code === 'VIGIL_ERR_FRAME_BINARY');
    const s = await scrape(h);
    expect(s.get('vigil_agent_frames_received_total', { type: 'other' })).toBe(3);
    expect(s.get('vigil_agent_frames_rejected_total', { code: 'VIGIL_ERR_MESSAGE_TYPE_UNKNOWN' })).toBe(1);
    expect(s.get('vigil_agent_frames_rejected_total', { code: 'VIGIL_ERR_FRAME_NOT_JSON' })).toBe(1);
    expect(s.get('vigil_agent_frames_rejected_total', { code: 'VIGIL_ERR_FRAME_BINARY' })).toBe(1);
    expect(s.samples.some((x) => Object.values(x.labels).includes('made.up-type'))).toBe(false);
    a.close();
  });

  it('shows an opened alert in vigil_alerts_open and its changes by action', async () => {
    const policy = await h.app.inject({ method: 'PUT', url: '/api/v1/policy', headers: { ...auth, 'content-type': 'application/yaml' }, payload: 'severities: { usb.unauthorised: critical }\n' });
    expect(policy.statusCode).toBe(200);
    const before = await scrape(h);
    expect(before.get('vigil_alerts_open', { rule: 'usb.unauthorised', severity: 'critical' })).toBe(0);
    expect(before.get('vigil_alert_changes_total', { action: 'opened' })).toBe(0);

    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    const env = a.send('usb.attached', { device: sandiskStick, present: false });
    await a.waitForAck(env.seq);
    const s = await scrape(h);
    expect(s.get('vigil_alerts_open', { rule: 'usb.unauthorised', severity: 'critical' })).toBe(1);
    expect(s.get('vigil_alerts_open', { rule: 'usb.unauthorised', severity: 'high' })).toBe(0);
    expect(s.all('vigil_alerts_open').reduce((n, x) => n + x.value, 0)).toBe(1);
    expect(s.get('vigil_alert_changes_total', { action: 'opened' })).toBe(1);
    // Queued for no target: nothing to deliver.
    expect(s.get('vigil_notification_deliveries', { status: 'pending' })).toBe(0);
    expect(s.get('vigil_policy_evaluation_failures_total')).toBe(0);

    const list = (await h.app.inject({ url: '/api/v1/alerts', headers: auth })).json() as { items: { id: string }[] };
    const id = list.items[0]?.id;
    const resolved = await h.app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/resolve`, headers: auth, payload: { resolution: 'removed' } });
    expect(resolved.statusCode).toBe(200);
    const t = await scrape(h);
    expect(t.get('vigil_alerts_open', { rule: 'usb.unauthorised', severity: 'critical' })).toBe(0);
    expect(t.get('vigil_alert_changes_total', { action: 'resolved' })).toBe(1);
    a.close();
  });

  it('labels HTTP requests by route pattern, never the raw URL', async () => {
    const id = '0190b2a4-0000-7000-8000-000000000000';
    expect((await h.app.inject({ url: `/api/v1/hosts/${id}`, headers: auth })).statusCode).toBe(404);
    expect((await h.app.inject({ url: '/no/such/path?x=1' })).statusCode).toBe(404);
    const s = await scrape(h);
    expect(s.get('vigil_http_requests_total', { method: 'GET', route: '/api/v1/hosts/:id', status: '404' })).toBe(1);
    expect(s.get('vigil_http_requests_total', { method: 'GET', route: '(unmatched)', status: '404' })).toBe(1);
    expect(s.samples.some((x) => Object.values(x.labels).some((v) => v.includes(id) || v.includes('/no/such')))).toBe(false);
  });

  it('keeps each app’s metrics to itself', async () => {
    const other = await startHarness({ evaluationTickMs: 3_600_000, notifications: { dispatch: false } });
    try {
      const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
      const env = a.send('session.state', sessions);
      await a.waitForAck(env.seq);
      const mine = await scrape(h);
      const theirs = await scrape(other);
      expect(mine.get('vigil_agent_connections_total')).toBe(1);
      expect(mine.get('vigil_ingest_messages_total', { result: 'stored' })).toBe(1);
      expect(theirs.get('vigil_agent_connections_total')).toBe(0);
      expect(theirs.get('vigil_agents_connected')).toBe(0);
      expect(theirs.get('vigil_agent_frames_received_total', { type: 'hello' })).toBe(0);
      expect(theirs.get('vigil_ingest_messages_total', { result: 'stored' })).toBe(0);
      expect(theirs.get('vigil_ingest_batch_size_count')).toBe(0);
      expect(other.app.metrics).not.toBe(h.app.metrics);
      a.close();
    } finally {
      await other.close();
    }
  });
});
