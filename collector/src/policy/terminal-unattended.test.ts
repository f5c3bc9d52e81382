import type { SessionState } from '@vigil/shared';
import { describe, expect, it } from 'vitest';
import { evaluateUnattended, sessionSubject } from './terminal-unattended.js';

/** A logind graphical session as the agent's Linux probe reports it (idleSince = last input). */
const session = (over: Partial<SessionState>): SessionState => ({
  id: '2', user: 'alice', locked: false, idle: true, idleSince: '2025-11-20T09:00:00Z', remote: false, seat: 'seat0', type: 'x11', ...over,
});
const rule = { thresholdSeconds: 1020, severity: 'low' as const };
const idleSince = Date.parse('2025-11-20T09:00:00Z');

describe('evaluateUnattended', () => {
  it('fires only once idle and unlocked for longer than the threshold', () => {
    expect(evaluateUnattended([session({})], rule, idleSince + 1_020_000)).toEqual([]);
    expect(evaluateUnattended([session({})], rule, idleSince + 1_021_000)).toEqual([
      {
        rule: 'terminal.unattended',
        subject: 'session:alice@seat0',
        severity: 'low',
        details: { user: 'alice', sessionId: '2', seat: 'seat0', type: 'x11', idleSince: '2025-11-20T09:00:00Z', idleSeconds: 1021, thresholdSeconds: 1020, message: expect.stringContaining('1021 s') },
      },
    ]);
  });

  it('ignores remote, locked, active and undetermined sessions', () => {
    const late = idleSince + 7_200_000;
    const quiet = [
      session({ remote: true, seat: undefined, id: 'c3', type: 'tty' }),
      session({ locked: true }),
      session({ locked: null }),
      session({ idle: false, idleSince: undefined }),
      session({ idle: null }),
      session({ idleSince: undefined }),
      session({ idleSince: '2025-11-20T11:30:00Z' }),
    ];
    expect(evaluateUnattended(quiet, rule, late)).toEqual([]);
  });

  it('names sessions without a seat by their id, and never reports a subject twice', () => {
    expect(sessionSubject({ user: 'bob', id: 'console', seat: undefined })).toBe('session:bob@console');
    const found = evaluateUnattended([session({ id: '2' }), session({ id: '7' })], rule, idleSince + 3_600_000);
    expect(found).toHaveLength(1);
    expect(found[0]?.details.alsoMatched).toEqual([expect.objectContaining({ sessionId: '7' })]);
  });
});
