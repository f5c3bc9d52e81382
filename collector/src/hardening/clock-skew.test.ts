import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentEnvelope, type AgentMessageType } from '@vigil/shared';
import { sandiskStick } from '../policy/test-support/usb-devices.js';
import { ADMIN_TOKEN, hostFacts, startHarness, TestAgent, type Harness } from '../test-support/harness.js';

// An agent whose clock is hours off must not reorder what happened or move when alerts happened:
// the collector orders by arrival (and the agent's sequence) and stamps alerts with its own clock;
// the agent's time is kept beside, as the agent's claim.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const HOURS = 3600_000;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('clock skew', () => {
  it('stamps alerts with the collector clock and orders USB history by arrival, whatever time the agent claims', async () => {
    const creds = await h.enrol(hostFacts({ hostname: 'skewed' }));
    const a = await TestAgent.connect(h.wsUrl, creds.agentToken, { agentId: creds.agentId });
    const sendAt = async <T extends AgentMessageType>(type: T, body: Parameters<typeof agentEnvelope<T>>[2], ts: number) => {
      const env = { ...agentEnvelope(type, a.nextSeq(), body), ts };
      a.sendRaw(JSON.stringify(env));
      await a.waitForAck(env.seq);
      return env;
    };
    const t0 = Date.now();
    // Attached "six hours from now", then detached "six hours ago": by the agent's clock the detach came first.
    const attached = await sendAt('usb.attached', { device: sandiskStick, present: false }, t0 + 6 * HOURS);
    await sendAt('usb.detached', { key: sandiskStick.key, busPath: sandiskStick.busPath }, t0 - 6 * HOURS);
    const t1 = Date.now();

    const alerts = (await h.app.inject({ url: `/api/v1/alerts?hostId=${creds.hostId}&rule=usb.unauthorised`, headers: auth })).json().items as { firstSeenAt: string; lastSeenAt: string; createdAt?: string }[];
    expect(alerts).toHaveLength(1);
    for (const at of [alerts[0]!.firstSeenAt, alerts[0]!.lastSeenAt]) {
      expect(Date.parse(at)).toBeGreaterThanOrEqual(t0 - 1000);
      expect(Date.parse(at)).toBeLessThanOrEqual(t1 + 1000);
    }

    const detail = (await h.app.inject({ url: `/api/v1/hosts/${creds.hostId}`, headers: auth })).json() as { usb: { present: { key?: string }[]; history: { at: string; event: string }[] } };
    // Newest first in the order they arrived: the detach is the latest, so the stick is not present.
    expect(detail.usb.history.map((e) => e.event)).toEqual(['detached', 'attached']);
    expect(detail.usb.present.some((d) => d.key === sandiskStick.key)).toBe(false);
    for (const e of detail.usb.history) expect(Math.abs(Date.parse(e.at) - t0)).toBeLessThan(HOURS);

    // The agent's claim is kept as it was sent, beside the arrival time.
    const row = h.store.db.prepare('SELECT agent_ts, received_at FROM messages WHERE id = ?').get(attached.id) as { agent_ts: number; received_at: number };
    expect(row.agent_ts).toBe(t0 + 6 * HOURS);
    expect(Math.abs(row.received_at - t0)).toBeLessThan(HOURS);
    a.close();
  });
});
