import type { ScreenlockSetting } from '@vigil/shared';
import { describe, expect, it } from 'vitest';
import { evaluateScreenlock } from './screenlock-noncompliant.js';

const known = <T>(value: T, source = 'gsettings org.gnome.desktop.screensaver') => ({ status: 'known' as const, value, source });
const unknown = (reason: string) => ({ status: 'unknown' as const, reason });

/** A GNOME user set to the CIS values (lock on, 300 s idle, no grace, password on wake). */
const compliant: ScreenlockSetting = {
  user: 'alice',
  desktop: 'gnome',
  enabled: known(true),
  idleTimeoutSeconds: known(300, 'gsettings org.gnome.desktop.session idle-delay'),
  graceSeconds: known(0),
  passwordRequired: known(true),
};
const rule = { screenlock: { maxIdleSeconds: 900, maxGraceSeconds: 5, requirePassword: true }, severity: 'medium' as const };

describe('evaluateScreenlock', () => {
  it('finds nothing for compliant settings, including the limits themselves', () => {
    expect(evaluateScreenlock([compliant, { ...compliant, user: 'bob', idleTimeoutSeconds: known(900), graceSeconds: known(5) }], rule)).toEqual({ findings: [], unknowns: [] });
  });

  it('lists every breach of one user in one finding', () => {
    const bad = { ...compliant, enabled: known(false), idleTimeoutSeconds: known(1800), graceSeconds: known(60), passwordRequired: known(false) };
    const { findings, unknowns } = evaluateScreenlock([bad], rule);
    expect(unknowns).toEqual([]);
    expect(findings).toEqual([
      {
        rule: 'screenlock.noncompliant',
        subject: 'screenlock:alice@gnome',
        severity: 'medium',
        details: {
          user: 'alice',
          desktop: 'gnome',
          breaches: [
            { field: 'enabled', problem: 'disabled', value: false, maximum: null, message: 'the screen lock is disabled' },
            { field: 'idleTimeoutSeconds', problem: 'above-maximum', value: 1800, maximum: 900, message: 'the idle timeout is 1800 s, above the maximum of 900 s' },
            { field: 'graceSeconds', problem: 'above-maximum', value: 60, maximum: 5, message: 'the grace period is 60 s, above the maximum of 5 s' },
            { field: 'passwordRequired', problem: 'no-password', value: false, maximum: null, message: 'no password is required to unlock' },
          ],
          unknown: {},
        },
      },
    ]);
  });

  it('treats an idle timeout of 0 as never locking', () => {
    const { findings } = evaluateScreenlock([{ ...compliant, idleTimeoutSeconds: known(0) }], rule);
    expect(findings[0]?.details.breaches).toEqual([expect.objectContaining({ problem: 'never-locks', value: 0 })]);
  });

  it('does not require a password when the policy does not', () => {
    const noPassword = { ...compliant, passwordRequired: known(false) };
    expect(evaluateScreenlock([noPassword], { ...rule, screenlock: { ...rule.screenlock, requirePassword: false } }).findings).toEqual([]);
    expect(evaluateScreenlock([noPassword], rule).findings).toHaveLength(1);
  });

  it('reports unknown settings apart: beside real breaches, or on their own without a finding', () => {
    const partly = { ...compliant, user: 'carol', desktop: undefined, graceSeconds: unknown('lock-delay not readable for another user'), idleTimeoutSeconds: known(3600) };
    const allUnknown: ScreenlockSetting = {
      user: 'dave',
      enabled: unknown('no D-Bus session for this user'),
      idleTimeoutSeconds: unknown('no D-Bus session for this user'),
      graceSeconds: unknown('no D-Bus session for this user'),
      passwordRequired: unknown('no D-Bus session for this user'),
    };
    const { findings, unknowns } = evaluateScreenlock([partly, allUnknown, { ...compliant, user: 'erin', passwordRequired: unknown('not reported by KDE') }], rule);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ subject: 'screenlock:carol', details: { desktop: null, unknown: { graceSeconds: 'lock-delay not readable for another user' } } });
    expect(findings[0]?.details.breaches).toEqual([expect.objectContaining({ field: 'idleTimeoutSeconds' })]);
    expect(unknowns).toEqual([
      { subject: 'screenlock:dave', user: 'dave', desktop: null, unknown: { enabled: 'no D-Bus session for this user', idleTimeoutSeconds: 'no D-Bus session for this user', graceSeconds: 'no D-Bus session for this user', passwordRequired: 'no D-Bus session for this user' } },
      { subject: 'screenlock:erin@gnome', user: 'erin', desktop: 'gnome', unknown: { passwordRequired: 'not reported by KDE' } },
    ]);
  });

  it('never reports one subject twice', () => {
    const { findings } = evaluateScreenlock([{ ...compliant, enabled: known(false) }, { ...compliant, graceSeconds: known(30) }], rule);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.details.alsoMatched).toEqual([expect.objectContaining({ breaches: [expect.objectContaining({ field: 'graceSeconds' })] })]);
  });
});
