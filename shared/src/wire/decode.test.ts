import { describe, expect, it } from 'vitest';
import { AGENT_MESSAGE_BODIES, agentEnvelope, collectorEnvelope, decodeAgentFrame, decodeCollectorFrame, PROTOCOL_VERSION, RawEnvelope } from '../index.js';

const goodbye = () => agentEnvelope('goodbye', 7, { reason: 'shutdown' });

describe('decodeAgentFrame', () => {
  it('accepts a valid envelope and returns the typed body', () => {
    const env = goodbye();
    const d = decodeAgentFrame(JSON.stringify(env));
    expect(d).toEqual({ ok: true, envelope: env });
  });

  it('strips unknown body keys so nothing unvalidated is stored', () => {
    const d = decodeAgentFrame(JSON.stringify({ ...goodbye(), body: { reason: 'stop', extra: '<script>' } }));
    expect(d.ok && d.envelope.body).toEqual({ reason: 'stop' });
  });

  it.each([
    ['not JSON', '{"v":1,', 'VIGIL_ERR_FRAME_NOT_JSON'],
    ['deep nesting', '['.repeat(100_000) + ']'.repeat(100_000), undefined],
    ['no envelope', '{"hello":1}', 'VIGIL_ERR_FRAME_INVALID'],
    ['bad id', JSON.stringify({ ...goodbye(), id: 'abc' }), 'VIGIL_ERR_FRAME_INVALID'],
    ['negative seq', JSON.stringify({ ...goodbye(), seq: -1 }), 'VIGIL_ERR_FRAME_INVALID'],
    ['future version', JSON.stringify({ ...goodbye(), v: PROTOCOL_VERSION + 1 }), 'VIGIL_ERR_PROTOCOL_VERSION'],
    ['unknown type', JSON.stringify({ ...goodbye(), type: 'keystrokes' }), 'VIGIL_ERR_MESSAGE_TYPE_UNKNOWN'],
    ['prototype key as type', JSON.stringify({ ...goodbye(), type: '__proto__' }), 'VIGIL_ERR_MESSAGE_TYPE_UNKNOWN'],
    ['bad body', JSON.stringify({ ...goodbye(), body: { reason: 'reboot' } }), 'VIGIL_ERR_MESSAGE_INVALID'],
  ])('refuses %s with a code', (_name, frame, code) => {
    const d = decodeAgentFrame(frame);
    expect(d.ok).toBe(false);
    if (!d.ok && code) expect(d.code).toBe(code);
  });

  it('keeps the seq of a readable but invalid message so it can be acked as rejected', () => {
    const d = decodeAgentFrame(JSON.stringify({ ...goodbye(), body: {} }));
    expect(d).toMatchObject({ ok: false, code: 'VIGIL_ERR_MESSAGE_INVALID', seq: 7, type: 'goodbye' });
    const e = decodeAgentFrame(JSON.stringify({ ...goodbye(), ts: 'yesterday' }));
    expect(e).toMatchObject({ ok: false, code: 'VIGIL_ERR_FRAME_INVALID', seq: 7 });
  });

  it('does not accept collector messages from an agent, nor the reverse', () => {
    expect(decodeAgentFrame(JSON.stringify(collectorEnvelope('ack', 1, { upToSeq: 3 })))).toMatchObject({ ok: false, code: 'VIGIL_ERR_MESSAGE_TYPE_UNKNOWN' });
    expect(decodeCollectorFrame(JSON.stringify(goodbye()))).toMatchObject({ ok: false, code: 'VIGIL_ERR_MESSAGE_TYPE_UNKNOWN' });
    expect(decodeCollectorFrame(JSON.stringify(collectorEnvelope('ack', 1, { upToSeq: 3 })))).toMatchObject({ ok: true });
  });
});

describe('decodeAgentFrame, the hand-checked envelope', () => {
  /** What zod alone makes of a frame's envelope and body (the reference the quick path must match). */
  function byZod(frame: string) {
    const raw = RawEnvelope.safeParse(JSON.parse(frame));
    if (!raw.success) return { ok: false };
    const schema = (AGENT_MESSAGE_BODIES as Record<string, { safeParse(x: unknown): { success: boolean; data?: unknown } }>)[raw.data.type];
    const body = schema?.safeParse(raw.data.body);
    return body?.success ? { ok: true, envelope: { ...raw.data, body: body.data } } : { ok: false, seq: raw.data.seq };
  }

  const base = () => agentEnvelope('session.state', 12, { sessions: [{ id: '2', user: 'alice', locked: false, idle: true, remote: false }] });
  const variants: [string, Record<string, unknown>][] = [
    ['valid', base()],
    ['extra envelope key', { ...base(), extra: 1 }],
    ['upper-case id', { ...base(), id: base().id.toUpperCase() }],
    ['nil id', { ...base(), id: '00000000-0000-0000-0000-000000000000' }],
    ['max id', { ...base(), id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' }],
    ['version 0 id', { ...base(), id: '01234567-89ab-0def-8123-456789abcdef' }],
    ['bad variant id', { ...base(), id: '01234567-89ab-7def-c123-456789abcdef' }],
    ['v as a string', { ...base(), v: '1' }],
    ['v fractional', { ...base(), v: 1.5 }],
    ['type empty', { ...base(), type: '' }],
    ['type 65 chars', { ...base(), type: 'x'.repeat(65) }],
    ['seq fractional', { ...base(), seq: 1.5 }],
    ['seq unsafe', { ...base(), seq: Number.MAX_SAFE_INTEGER + 2 }],
    ['seq max safe', { ...base(), seq: Number.MAX_SAFE_INTEGER }],
    ['ts negative', { ...base(), ts: -1 }],
    ['ts at the limit', { ...base(), ts: 8_640_000_000_000_000 }],
    ['ts past the limit', { ...base(), ts: 8_640_000_000_000_001 }],
    ['no body', { ...base(), body: undefined }],
    ['null body', { ...base(), body: null }],
  ];

  it.each(variants)('decides %s as zod does', (_name, env) => {
    const frame = JSON.stringify(env);
    const d = decodeAgentFrame(frame);
    const ref = byZod(frame);
    expect(d.ok).toBe(ref.ok);
    if (d.ok) expect(d.envelope).toEqual(ref.envelope);
    else if ('seq' in ref) expect(d.seq).toBe(ref.seq);
  });

  it('keeps only the envelope fields, in the schema order', () => {
    const env = base();
    const d = decodeAgentFrame(JSON.stringify({ extra: 'x', ...env }));
    expect(d.ok && Object.keys(d.envelope)).toEqual(['v', 'type', 'id', 'seq', 'ts', 'body']);
  });
});
