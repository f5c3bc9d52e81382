import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorResponse } from '@vigil/shared';
import { ENROL_SECRET, hostFacts, startHarness, type Harness } from '../test-support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h.close());

const enrol = (secret: string, hostname: string) => h.app.inject({ method: 'POST', url: '/api/v1/enrol', payload: { secret, host: hostFacts({ hostname }) } });

describe('POST /api/v1/enrol under concurrent load (enrolments committed together)', () => {
  it('gives every concurrent enrolment its own host and agent, with the groups of its own secret, in fewer transactions; wrong secrets are still refused', async () => {
    const { secret: finance } = h.store.credentials.createEnrolSecret('finance', ['finance']);
    const transaction = vi.spyOn(h.store, 'transaction');
    const requests = Array.from({ length: 40 }, (_, i) => (i % 10 === 3 ? enrol(`wrong-${i}`, `bad-${i}`) : enrol(i % 2 ? finance : ENROL_SECRET, `host-${i}`)));
    const responses = await Promise.all(requests);

    const refused = responses.filter((_, i) => i % 10 === 3);
    for (const r of refused) {
      expect(r.statusCode).toBe(401);
      expect(ErrorResponse.parse(r.json()).error.code).toBe('VIGIL_ERR_ENROL_SECRET_INVALID');
    }
    const accepted = responses.map((r, i) => ({ r, i })).filter(({ i }) => i % 10 !== 3);
    expect(accepted.map(({ r }) => r.statusCode)).toEqual(accepted.map(() => 201));
    const bodies = accepted.map(({ r, i }) => ({ i, ...(r.json() as { hostId: string; agentId: string; agentToken: string }) }));
    expect(new Set(bodies.map((b) => b.hostId)).size).toBe(36);
    expect(new Set(bodies.map((b) => b.agentToken)).size).toBe(36);
    for (const b of bodies) {
      const host = h.store.hosts.get(b.hostId);
      expect(host?.hostname).toBe(`host-${b.i}`);
      expect(host?.groups).toEqual(b.i % 2 ? ['finance'] : []);
      expect(h.store.agents.findByToken(b.agentToken)).toMatchObject({ agentId: b.agentId, hostId: b.hostId, revoked: false });
    }
    expect(h.store.hosts.list({ limit: 100 }).items.map((x) => x.hostname).filter((n) => n.startsWith('bad-'))).toEqual([]);
    expect(transaction.mock.calls.length).toBeLessThan(36);
  });

  it('when one enrolment of a batch fails, the others still succeed and nothing of the failed one is stored', async () => {
    const create = h.store.hosts.create.bind(h.store.hosts);
    vi.spyOn(h.store.hosts, 'create').mockImplementation((facts, ...rest) => {
      if (facts.hostname === 'host-5') throw new Error('disk full');
      return create(facts, ...rest);
    });
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => enrol(ENROL_SECRET, `host-${i}`)));
    expect(responses.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201, 500, 201, 201, 201, 201]);
    const names = h.store.hosts.list({ limit: 100 }).items.map((x) => x.hostname).sort();
    expect(names).toEqual(['host-0', 'host-1', 'host-2', 'host-3', 'host-4', 'host-6', 'host-7', 'host-8', 'host-9']);
    expect((h.store.db.prepare('SELECT count(*) AS n FROM agents').get() as { n: number }).n).toBe(9);
  });
});
