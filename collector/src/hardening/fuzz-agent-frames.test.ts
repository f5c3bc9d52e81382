import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_MESSAGE_BODIES, AGENT_MESSAGE_TYPES, decodeAgentFrame, PROTOCOL_VERSION, uuidv7 } from '@vigil/shared';
import { arbitraryOf, mutate, mutationArb } from '../test-support/schema-arbitrary.js';
import { hostFacts, startHarness, TestAgent, type Harness } from '../test-support/harness.js';
import { fuzzRuns, fuzzSeed, printFuzzTally, recordFuzz } from './fuzz-settings.js';

// Every agent message type, fuzzed through the real gateway and store (a collector on a real
// SQLite file, a real WebSocket): bodies generated from the shared schema (mostly valid, with
// hostile text) and mutations of them. The collector must do exactly what the shared decoder
// says — store what it accepts (and what it stored must pass the schema again), answer the rest
// with the decoder's code — and stay up.

const MAX_FRAME = 64 * 1024;
let h: Harness;
let agent: TestAgent;
let agentId: string;

beforeAll(async () => {
  h = await startHarness({ maxFrameBytes: MAX_FRAME, gateway: { maxBadFrames: 1_000_000 } });
  const creds = await h.enrol(hostFacts({ hostname: 'fuzzed' }));
  agentId = creds.agentId;
  agent = await TestAgent.connect(h.wsUrl, creds.agentToken, { agentId });
});
afterAll(async () => {
  printFuzzTally('agent frame fuzzing');
  agent?.close();
  await h?.close();
});

const stored = (id: string) => h.store.db.prepare('SELECT type, body FROM messages WHERE id = ?').get(id) as { type: string; body: string } | undefined;
const rejectedRow = (id: string) => h.store.db.prepare('SELECT code FROM rejected_messages WHERE message_id = ?').get(id) as { code: string } | undefined;

describe('fuzzing agent frames (fast-check, from the shared schemas)', () => {
  for (const type of AGENT_MESSAGE_TYPES.filter((t) => t !== 'hello')) {
    it(`${type}: stored exactly when the shared decoder accepts it, else rejected with its code; nothing crashes`, async () => {
      const schema = AGENT_MESSAGE_BODIES[type];
      let accepted = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(arbitraryOf(schema), fc.option(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), { nil: undefined, freq: 2 }), async (body, mutations) => {
          const sent = mutations ? mutate(body, mutations) : body;
          const env = { v: PROTOCOL_VERSION, type, id: uuidv7(), seq: agent.nextSeq(), ts: Date.now(), body: sent };
          const frame = JSON.stringify(env);
          const decoded = decodeAgentFrame(frame);
          const expected = Buffer.byteLength(frame) > MAX_FRAME ? 'VIGIL_ERR_FRAME_TOO_LARGE' : decoded.ok ? undefined : decoded.code;
          agent.sendRaw(frame);
          const ack = await agent.waitForAck(env.seq);
          const rejection = (ack.body.rejected as { seq: number; code: string }[] | undefined)?.find((r) => r.seq === env.seq);
          expect(rejection?.code).toBe(expected);
          const row = stored(env.id);
          if (expected) {
            refused++;
            expect(row).toBeUndefined();
            expect(rejectedRow(env.id)?.code).toBe(expected);
          } else {
            accepted++;
            // Heartbeats are counters on the agent's row, not stored messages.
            if (type === 'heartbeat') expect(row).toBeUndefined();
            else {
              expect(row?.type).toBe(type);
              // As the agent sent it (a snapshot's software list is stored as shared items), it passes the schema again.
              expect(schema.safeParse(h.store.ingest.body(env.id)).success).toBe(true);
            }
          }
        }),
        { numRuns: fuzzRuns(60), seed: fuzzSeed(), endOnFailure: true },
      );
      recordFuzz(`agent ${type}`, { accepted, refused });
      // Both sides of the schema were reached.
      expect(accepted).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
      // Still up: the same connection is answered.
      const env = agent.send('goodbye', { reason: 'sleep' });
      expect((await agent.waitForAck(env.seq)).body.upToSeq).toBe(env.seq);
    }, 60_000);
  }

  it('whole frames: random JSON, broken envelopes, deep nesting and binary are answered with a coded error and the stream goes on', async () => {
    const envelopeArb = fc.record({
      v: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.jsonValue({ maxDepth: 0 })),
      type: fc.oneof(fc.constantFrom(...AGENT_MESSAGE_TYPES, 'hello', '__proto__', 'constructor', ''), fc.string({ maxLength: 70 })),
      id: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })),
      seq: fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, 2 ** 60, '7')),
      ts: fc.oneof(fc.nat(), fc.constantFrom(-1, 8.64e15 + 1, 'now')),
      body: fc.jsonValue({ maxDepth: 3 }),
    }, { requiredKeys: [] });
    const frameArb = fc.oneof(
      envelopeArb.map((e) => JSON.stringify(e)),
      fc.string({ maxLength: 200 }),
      fc.constantFrom('[' .repeat(100_000), '{"a":'.repeat(20_000), 'null', '1e999', '"\\ud800"', '{"__proto__":{"polluted":1}}'),
    );
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(frameArb, async (frame) => {
        frames++;
        const before = agent.frames.length;
        agent.sendRaw(frame);
        // Every frame is answered: an ack (possibly with its rejection) or a coded error.
        const answer = await agent.waitFor((f, i) => i >= before && (f.type === 'ack' || f.type === 'error'), 5000);
        expect(answer.type).not.toBe('closed');
        if (answer.type === 'error') expect(String(answer.body.code)).toMatch(/^VIGIL_ERR_[A-Z_]+$/);
      }),
      { numRuns: fuzzRuns(200), seed: fuzzSeed(), endOnFailure: true },
    );
    agent.sendRaw(Buffer.from([0, 1, 2, 255]), true);
    expect((await agent.waitFor((f) => f.type === 'error' && f.body.code === 'VIGIL_ERR_FRAME_BINARY')).body.code).toBe('VIGIL_ERR_FRAME_BINARY');
    recordFuzz('agent whole frames', { frames: frames + 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const env = agent.send('goodbye', { reason: 'sleep' });
    expect((await agent.waitForAck(env.seq)).body.upToSeq).toBeGreaterThanOrEqual(env.seq);
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  }, 120_000);
});
