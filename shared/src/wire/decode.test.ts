import { describe, expect, it } from 'vitest';
import { agentEnvelope, collectorEnvelope, decodeAgentFrame, decodeCollectorFrame, PROTOCOL_VERSION } from '../index.js';

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
