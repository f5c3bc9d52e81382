import { describe, expect, it } from 'vitest';
import { evaluateAgentSilent } from './agent-silent.js';

const rule = { thresholdSeconds: 90, severity: 'medium' as const };
const lastSeenAt = Date.parse('2025-11-20T09:00:00Z');

describe('evaluateAgentSilent', () => {
  it('is quiet until the threshold and fires at it', () => {
    const presence = { lastSeenAt, lastGoodbye: null, connected: false };
    expect(evaluateAgentSilent(presence, rule, lastSeenAt + 89_999)).toEqual([]);
    expect(evaluateAgentSilent(presence, rule, lastSeenAt + 90_000)).toEqual([
      {
        rule: 'agent.silent',
        subject: 'agent',
        severity: 'medium',
        details: {
          lastSeenAt: '2025-11-20T09:00:00.000Z',
          silentSeconds: 90,
          thresholdSeconds: 90,
          connected: false,
          lastGoodbye: null,
          message: expect.stringMatching(/no frame and no goodbye/),
        },
      },
    ]);
  });

  it('treats a host whose last word was goodbye as merely offline', () => {
    const later = lastSeenAt + 86_400_000;
    expect(evaluateAgentSilent({ lastSeenAt, lastGoodbye: { at: lastSeenAt, reason: 'sleep' }, connected: false }, rule, later)).toEqual([]);
  });

  it('ignores a goodbye the agent has spoken since', () => {
    const [f] = evaluateAgentSilent({ lastSeenAt, lastGoodbye: { at: lastSeenAt - 3_600_000, reason: 'shutdown' }, connected: false }, rule, lastSeenAt + 120_000);
    expect(f?.details.lastGoodbye).toEqual({ at: '2025-11-20T08:00:00.000Z', reason: 'shutdown' });
  });

  it('flags an open connection that carries nothing as a possibly hung agent', () => {
    const [f] = evaluateAgentSilent({ lastSeenAt, lastGoodbye: null, connected: true }, rule, lastSeenAt + 600_000);
    expect(f?.details).toMatchObject({ connected: true, silentSeconds: 600, message: expect.stringMatching(/hung/) });
  });

  it('says nothing of a host never heard from', () => {
    expect(evaluateAgentSilent({ lastSeenAt: null, lastGoodbye: null, connected: false }, rule, lastSeenAt)).toEqual([]);
  });
});
