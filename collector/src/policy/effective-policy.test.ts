import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, PolicyDocument } from '@vigil/shared/policy';
import { resolveEffectivePolicy } from './effective-policy.js';

const policy = PolicyDocument.parse({
  mode: 'monitor-only',
  severities: { 'terminal.unattended': 'low' },
  enabled: { 'agent.silent': false },
  screenlock: { maxIdleSeconds: 900, maxGraceSeconds: 5 },
  overrides: [
    { groups: ['kiosk'], screenlock: { maxIdleSeconds: 300 }, enabled: { 'terminal.unattended': false } },
    { groups: ['lab'], screenlock: { maxIdleSeconds: 1800, maxGraceSeconds: 60, requirePassword: false }, mode: 'monitor-only' },
    { groups: ['finance'], mode: 'enforce', severities: { 'terminal.unattended': 'high' }, enabled: { 'agent.silent': true, 'terminal.unattended': true } },
    { groups: ['servers'], silent: { thresholdSeconds: 45 }, unattended: { thresholdSeconds: 600 } },
    { groups: ['finance-kiosk'], severities: { 'terminal.unattended': 'medium' }, silent: { thresholdSeconds: 600 } },
  ],
});
const heartbeat = { heartbeatSeconds: 30 };

describe('resolveEffectivePolicy', () => {
  it('gives the document values and derived thresholds to a host in no overridden group', () => {
    const e = resolveEffectivePolicy(DEFAULT_POLICY, ['office'], heartbeat);
    expect(e).toMatchObject({ mode: 'enforce', screenlock: { maxIdleSeconds: 900, maxGraceSeconds: 5, requirePassword: true }, unattendedThresholdSeconds: 1020, silentThresholdSeconds: 90, matchedOverrides: [] });
    expect(e.severities['usb.unauthorised']).toBe('high');
    expect(Object.values(e.enabled).every(Boolean)).toBe(true);
    expect(resolveEffectivePolicy(DEFAULT_POLICY, [], { heartbeatSeconds: 0.5 }).silentThresholdSeconds).toBe(1.5);
  });

  it('lets one override tighten or relax, and derives the unattended threshold from the host’s own lock limit', () => {
    const kiosk = resolveEffectivePolicy(policy, ['kiosk'], heartbeat);
    expect(kiosk.screenlock).toEqual({ maxIdleSeconds: 300, maxGraceSeconds: 5, requirePassword: true });
    expect(kiosk.unattendedThresholdSeconds).toBe(420);
    expect(kiosk.enabled['terminal.unattended']).toBe(false);
    expect(kiosk.enabled['agent.silent']).toBe(false);
    expect(kiosk.matchedOverrides).toEqual([0]);
    const lab = resolveEffectivePolicy(policy, ['lab'], heartbeat);
    expect(lab.screenlock).toEqual({ maxIdleSeconds: 1800, maxGraceSeconds: 60, requirePassword: false });
    expect(lab.unattendedThresholdSeconds).toBe(1920);
  });

  it('resolves conflicts between groups to the strictest value, whatever the order', () => {
    const both = resolveEffectivePolicy(policy, ['lab', 'kiosk', 'finance'], heartbeat);
    expect(both.screenlock).toEqual({ maxIdleSeconds: 300, maxGraceSeconds: 60, requirePassword: false });
    expect(both.enabled['terminal.unattended']).toBe(true);
    expect(both.enabled['agent.silent']).toBe(true);
    expect(both.mode).toBe('enforce');
    expect(both.severities['terminal.unattended']).toBe('high');
    expect(both.matchedOverrides).toEqual([0, 1, 2]);
    const reversed = PolicyDocument.parse({ ...policy, overrides: [...policy.overrides].reverse() });
    const again = resolveEffectivePolicy(reversed, ['lab', 'kiosk', 'finance'], heartbeat);
    expect({ ...again, matchedOverrides: [] }).toEqual({ ...both, matchedOverrides: [] });
  });

  it('takes explicit thresholds over derived ones and the lowest when groups disagree', () => {
    const e = resolveEffectivePolicy(policy, ['servers', 'finance-kiosk'], heartbeat);
    expect(e.silentThresholdSeconds).toBe(45);
    expect(e.unattendedThresholdSeconds).toBe(600);
    expect(e.severities['terminal.unattended']).toBe('medium');
    expect(e.mode).toBe('monitor-only');
  });

  it('matches group names exactly', () => {
    expect(resolveEffectivePolicy(policy, ['Kiosk', 'kiosk-2'], heartbeat).matchedOverrides).toEqual([]);
  });
});
