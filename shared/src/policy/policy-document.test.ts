import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, DEFAULT_SEVERITIES, PolicyDocument, RULE_IDS } from './policy-document.js';

const issues = (input: unknown) => {
  const r = PolicyDocument.safeParse(input);
  if (r.success) throw new Error('expected the policy to be refused');
  return r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message, code: i.code }));
};

describe('PolicyDocument', () => {
  it('makes {} a complete, sensible policy', () => {
    const p = PolicyDocument.parse({});
    expect(p).toEqual({
      version: 1,
      mode: 'enforce',
      severities: {
        'usb.unauthorised': 'high',
        'software.unapproved': 'medium',
        'software.prohibited': 'critical',
        'licence.over_deployed': 'medium',
        'screenlock.noncompliant': 'medium',
        'terminal.unattended': 'low',
        'agent.silent': 'medium',
        'agent.cloned': 'high',
      },
      enabled: Object.fromEntries(RULE_IDS.map((id) => [id, true])),
      usb: { allowHubs: true, allowInternal: true, allow: [] },
      screenlock: { maxIdleSeconds: 900, maxGraceSeconds: 5, requirePassword: true },
      unattended: { thresholdSeconds: null },
      silent: { thresholdSeconds: null },
      software: { defaults: { approveOsVendor: true }, titles: [] },
      overrides: [],
    });
    expect(DEFAULT_POLICY).toEqual(p);
    expect(Object.isFrozen(DEFAULT_POLICY.usb.allow)).toBe(true);
    expect(Object.keys(DEFAULT_SEVERITIES)).toEqual([...RULE_IDS]);
  });

  it('accepts the documented example, keeping what it sets and defaulting the rest', () => {
    const p = PolicyDocument.parse({
      version: 1,
      mode: 'monitor-only',
      severities: { 'usb.unauthorised': 'critical', 'terminal.unattended': 'medium' },
      enabled: { 'terminal.unattended': false },
      usb: {
        allowHubs: false,
        allow: [
          { vendorId: '046D', note: 'Logitech peripherals', scope: { groups: ['office'] }, expires: '2027-01-01T00:00:00Z' },
          { vendorId: '0781', productId: '5581', serial: '4C530001', note: 'Finance backup stick', expires: '2027-01-01' },
          { interfaceClasses: ['03'], note: 'keyboards and mice', expires: '2026-06-30T17:00:00+01:00' },
        ],
      },
      screenlock: { maxIdleSeconds: 600 },
      unattended: { thresholdSeconds: 720 },
      overrides: [{ groups: ['kiosk'], screenlock: { maxIdleSeconds: 300 }, enabled: { 'terminal.unattended': true } }],
    });
    expect(p.mode).toBe('monitor-only');
    expect(p.severities['usb.unauthorised']).toBe('critical');
    expect(p.severities['agent.silent']).toBe('medium');
    expect(p.enabled['terminal.unattended']).toBe(false);
    expect(p.enabled['usb.unauthorised']).toBe(true);
    expect(p.usb.allowHubs).toBe(false);
    expect(p.usb.allowInternal).toBe(true);
    expect(p.usb.allow[0]?.vendorId).toBe('046d');
    expect(p.usb.allow[1]?.serial).toBe('4C530001');
    expect(p.screenlock).toEqual({ maxIdleSeconds: 600, maxGraceSeconds: 5, requirePassword: true });
    expect(p.unattended.thresholdSeconds).toBe(720);
    expect(p.overrides[0]?.screenlock).toEqual({ maxIdleSeconds: 300 });
  });

  it('refuses misspelt keys at every level', () => {
    const found = issues({ usb: { allowHub: true, allow: [{ vendorId: '0781', expiry: '2027-01-01' }] }, screenLock: {}, overrides: [{ groups: ['kiosk'], silent: { threshold: 5 } }] });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'unrecognized_keys', path: '' }),
        expect.objectContaining({ code: 'unrecognized_keys', path: 'usb' }),
        expect.objectContaining({ code: 'unrecognized_keys', path: 'usb.allow.0' }),
        expect.objectContaining({ code: 'unrecognized_keys', path: 'overrides.0.silent' }),
      ]),
    );
    expect(issues({ severities: { 'usb.unauthorized': 'high' } })[0]?.message).toContain('usb.unauthorized');
  });

  it('lists every problem, not the first', () => {
    const found = issues({
      version: 2,
      mode: 'audit',
      severities: { 'agent.silent': 'urgent' },
      screenlock: { maxIdleSeconds: 0, maxGraceSeconds: 2.5 },
      usb: { allow: [{ vendorId: 781 }, { productId: '5581' }, { vendorId: '0781', serial: 'x' }, { note: 'everything' }, { interfaceClasses: [3] }] },
      silent: { thresholdSeconds: -1 },
    });
    const paths = found.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'version', 'mode', 'severities.agent.silent', 'screenlock.maxIdleSeconds', 'screenlock.maxGraceSeconds',
        'usb.allow.0.vendorId', 'usb.allow.1', 'usb.allow.1.productId', 'usb.allow.2.serial', 'usb.allow.3', 'usb.allow.4.interfaceClasses.0', 'silent.thresholdSeconds',
      ]),
    );
    expect(found.find((f) => f.path === 'usb.allow.0.vendorId')?.message).toMatch(/quoted string of 4 hex digits.*YAML reads it as a number/);
    expect(found.find((f) => f.path === 'usb.allow.3')?.message).toMatch(/would allow every device/);
  });

  it('checks ids, times, scopes and overrides', () => {
    const found = issues({
      usb: {
        allow: [
          { vendorId: '07g1' },
          { vendorId: '0781', expires: '2027-01-01T00:00:00' },
          { vendorId: '0781', expires: 'next year' },
          { vendorId: '0781', scope: {} },
          { vendorId: '0781', scope: { hostIds: ['web-01'] } },
          { vendorId: '0781', interfaceClasses: [] },
        ],
      },
      overrides: [{ groups: [] }, { groups: ['kiosk'] }, { groups: ['lab'], screenlock: { maxIdleSecond: 5 } }],
    });
    const byPath = new Map(found.map((f) => [f.path, f.message]));
    expect(byPath.get('usb.allow.0.vendorId')).toMatch(/4 hex digits/);
    expect(byPath.get('usb.allow.1.expires')).toMatch(/ISO 8601/);
    expect(byPath.get('usb.allow.2.expires')).toMatch(/ISO 8601/);
    expect(byPath.get('usb.allow.3.scope')).toMatch(/hostIds or groups/);
    expect(byPath.get('usb.allow.4.scope.hostIds.0')).toMatch(/host id/);
    expect(byPath.get('usb.allow.5.interfaceClasses')).toMatch(/at least one/);
    expect(byPath.get('overrides.0.groups')).toMatch(/at least one group/);
    expect(byPath.get('overrides.1')).toMatch(/sets nothing/);
    expect(found.some((f) => f.path === 'overrides.2.screenlock' && f.code === 'unrecognized_keys')).toBe(true);
  });

  it('accepts a host-scoped rule and refuses a software catalogue problem through the document', () => {
    const hostId = '01936f2e-8a4b-7c3d-9e5f-0123456789ab';
    expect(PolicyDocument.parse({ usb: { allow: [{ vendorId: '0781', scope: { hostIds: [hostId] } }] } }).usb.allow[0]?.scope).toEqual({ hostIds: [hostId] });
    expect(issues({ software: { titles: [{ title: 'Office', match: { name: 'Office*' }, status: 'licensed' }] } })[0]?.path).toBe('software.titles.0.seats');
  });
});
