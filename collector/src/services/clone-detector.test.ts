import { describe, expect, it } from 'vitest';
import { CloneDetector, peerAddress, type HelloSighting } from './clone-detector.js';

const AGENT = '0190c6a0-0000-7000-8000-000000000001';
const A = '6b1f3c2e-1111-4111-8111-111111111111';
const B = '6b1f3c2e-2222-4222-8222-222222222222';
const C = '6b1f3c2e-3333-4333-8333-333333333333';

/** Hellos of one agent at one-second steps; each replaces the previous one's connection when `replaces`. */
function run(d: CloneDetector, hellos: Partial<HelloSighting>[], start = 1_000_000) {
  return hellos.map((h, i) => d.onHello({ agentId: AGENT, peer: '10.0.0.1:5000', committedSeq: 0, at: start + i * 1000, ...h }));
}

describe('clone detector', () => {
  it('does not flag one agent that reconnects or restarts', () => {
    const d = new CloneDetector();
    // Reconnects after blips (same process), then restarts (new processes) whose old connection looked open.
    const out = run(d, [
      { instanceId: A, lastSeq: 10, committedSeq: 0 },
      { instanceId: A, lastSeq: 20, committedSeq: 10, replaced: { instanceId: A, peer: '10.0.0.1:5000' } },
      { instanceId: B, lastSeq: 25, committedSeq: 20, replaced: { instanceId: A, peer: '10.0.0.1:5000' } },
      { instanceId: B, lastSeq: 30, committedSeq: 25 },
      { instanceId: C, lastSeq: 30, committedSeq: 30, replaced: { instanceId: B, peer: '10.0.0.1:5000' } },
    ]);
    expect(out.every((e) => e === undefined)).toBe(true);
  });

  it('flags an instance that comes back after another took over (A, B, A)', () => {
    const d = new CloneDetector();
    const out = run(d, [
      { instanceId: A, peer: '10.0.0.1:5000' },
      { instanceId: B, peer: '10.0.0.2:6000', replaced: { instanceId: A, peer: '10.0.0.1:5000' } },
      { instanceId: A, peer: '10.0.0.1:5001', replaced: { instanceId: B, peer: '10.0.0.2:6000' } },
    ]);
    expect(out[0]).toBeUndefined();
    expect(out[1]).toBeUndefined();
    expect(out[2]).toMatchObject({
      signals: ['instance-alternation'],
      supersessions: 2,
      alternations: 1,
      copies: [
        { instanceId: A, hellos: 2, peers: ['10.0.0.1:5000', '10.0.0.1:5001'] },
        { instanceId: B, hellos: 1, peers: ['10.0.0.2:6000'] },
      ],
    });
  });

  it('flags an outbox behind what the collector committed (seq regression), even with no other copy online', () => {
    const d = new CloneDetector();
    expect(run(d, [{ lastSeq: 40, committedSeq: 40 }])[0]).toBeUndefined();
    const [e] = run(d, [{ lastSeq: 39, committedSeq: 55 }], 2_000_000);
    expect(e).toMatchObject({ signals: ['seq-regression'], helloLastSeq: 39, committedSeq: 55 });
    // A hello without lastSeq says nothing about it.
    expect(run(new CloneDetector(), [{ committedSeq: 55 }])[0]).toBeUndefined();
  });

  it('flags peer alternation only when repeated (agents without an instance id)', () => {
    const d = new CloneDetector({ peerAlternations: 3 });
    const laptop = run(d, [{ peer: '10.0.0.1:1' }, { peer: '192.168.1.5:2' }, { peer: '10.0.0.1:3' }]);
    expect(laptop.every((e) => e === undefined)).toBe(true); // moved networks and back once
    const more = run(d, [{ peer: '192.168.1.5:4' }, { peer: '10.0.0.1:5' }], 1_003_000);
    expect(more[0]).toBeUndefined();
    expect(more[1]).toMatchObject({ signals: ['peer-alternation'], alternations: 3 });
  });

  it('forgets hellos older than the window', () => {
    const d = new CloneDetector({ windowMs: 5_000 });
    run(d, [{ instanceId: A }, { instanceId: B }]);
    // A comes back long after: B's hello is outside the window, so no alternation is seen.
    expect(run(d, [{ instanceId: A }], 1_000_000 + 60_000)[0]).toBeUndefined();
    d.prune(1_000_000 + 120_000);
    expect(d.size).toBe(0);
  });

  it('keeps a bounded number of agents', () => {
    const d = new CloneDetector({ maxAgents: 3 });
    for (let i = 0; i < 10; i++) d.onHello({ agentId: `agent-${i}`, peer: '1.1.1.1:1', committedSeq: 0, at: i });
    expect(d.size).toBe(3);
  });

  it('reads the address out of address:port, IPv6 included', () => {
    expect(peerAddress('10.1.2.3:5555')).toBe('10.1.2.3');
    expect(peerAddress('::ffff:127.0.0.1:5555')).toBe('::ffff:127.0.0.1');
    expect(peerAddress('[::1]:80')).toBe('::1');
  });
});
