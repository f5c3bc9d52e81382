import { describe, expect, it } from 'vitest';
import { PolicyDocument, type UsbPolicy } from '@vigil/shared/policy';
import { evaluateUsb, judgeUsbDevice } from './usb-unauthorised.js';
import type { UsbApproval } from './usb-approval.js';
import { arduinoLeonardo, ehciRootHub, hidStorageGadget, intelHub, kinesisKeyboard, sandiskStick, xperiaPhone } from './test-support/usb-devices.js';

const now = Date.parse('2026-03-01T12:00:00Z');
const host = { id: '01936f2e-8a4b-7c3d-9e5f-0123456789ab', groups: ['finance'] };
const usbPolicy = (usb: unknown): UsbPolicy => PolicyDocument.parse({ usb }).usb;
const defaults = usbPolicy({});
const approval = (over: Partial<UsbApproval> & Pick<UsbApproval, 'scope'>): UsbApproval =>
  ({ id: 'apr-1', deviceKey: sandiskStick.key, by: 'analyst@example.org', reason: 'finance backup stick', ...over }) as UsbApproval;

describe('judgeUsbDevice', () => {
  it('denies by default and says so', () => {
    const v = judgeUsbDevice(sandiskStick, host, defaults, [], now);
    expect(v).toEqual({ allowed: false, reasons: [expect.stringMatching(/^no allow rule or approval in force allows 0781:5581 serial 0101287b.*default deny/)] });
  });

  it('allows hubs and fixed devices by default, and not when switched off', () => {
    expect(judgeUsbDevice(ehciRootHub, host, defaults, [], now)).toEqual({ allowed: true, allowedBy: { kind: 'hub' } });
    expect(judgeUsbDevice(intelHub, host, defaults, [], now)).toEqual({ allowed: true, allowedBy: { kind: 'hub' } });
    expect(judgeUsbDevice({ ...xperiaPhone, removable: 'fixed' }, host, defaults, [], now)).toEqual({ allowed: true, allowedBy: { kind: 'internal' } });
    const strict = usbPolicy({ allowHubs: false, allowInternal: false });
    const hub = judgeUsbDevice(ehciRootHub, host, strict, [], now);
    expect(hub.allowed === false && hub.reasons[0]).toMatch(/usb.allowHubs is false/);
    const fixed = judgeUsbDevice(intelHub, host, strict, [], now);
    expect(fixed.allowed === false && fixed.reasons.slice(0, 2)).toEqual([expect.stringMatching(/allowHubs/), expect.stringMatching(/allowInternal/)]);
    // An unknown removability is not "internal".
    expect(judgeUsbDevice(sandiskStick, host, defaults, [], now).allowed).toBe(false);
  });

  it('does not take a hub with other interfaces for a hub', () => {
    const v = judgeUsbDevice({ ...ehciRootHub, isRootHub: false, interfaceClasses: ['09', '03'] }, host, defaults, [], now);
    expect(v.allowed === false && v.reasons[0]).toMatch(/hub but also has interface classes \[03\]/);
  });

  it('matches vendor, vendor+product and vendor+product+serial rules', () => {
    expect(judgeUsbDevice(sandiskStick, host, usbPolicy({ allow: [{ vendorId: '0781', note: 'SanDisk' }] }), [], now)).toEqual({ allowed: true, allowedBy: { kind: 'rule', rule: 0, note: 'SanDisk' } });
    expect(judgeUsbDevice(sandiskStick, host, usbPolicy({ allow: [{ vendorId: '0781', productId: '5581' }] }), [], now)).toMatchObject({ allowed: true, allowedBy: { rule: 0, note: null } });
    expect(judgeUsbDevice(sandiskStick, host, usbPolicy({ allow: [{ vendorId: '0781', productId: '5567' }] }), [], now).allowed).toBe(false);
    const bySerial = usbPolicy({ allow: [{ vendorId: '0781', productId: '5581', serial: 'OTHER' }, { vendorId: '0781', productId: '5581', serial: sandiskStick.serial }] });
    expect(judgeUsbDevice(sandiskStick, host, bySerial, [], now)).toMatchObject({ allowed: true, allowedBy: { rule: 1 } });
    expect(judgeUsbDevice({ ...sandiskStick, serial: sandiskStick.serial.toUpperCase() }, host, usbPolicy({ allow: [{ vendorId: '0781', productId: '5581', serial: sandiskStick.serial }] }), [], now).allowed).toBe(false);
  });

  it('lets a HID-only rule pass a keyboard but not a keyboard that is also storage or a serial port (BadUSB)', () => {
    const hid = usbPolicy({ allow: [{ interfaceClasses: ['03'], note: 'keyboards and mice' }] });
    expect(judgeUsbDevice(kinesisKeyboard, host, hid, [], now)).toMatchObject({ allowed: true, allowedBy: { kind: 'rule', rule: 0 } });
    const gadget = judgeUsbDevice(hidStorageGadget, host, hid, [], now);
    expect(gadget.allowed === false && gadget.reasons[0]).toBe('usb.allow[0] ("keyboards and mice") allows only interface classes [03]; the device also has [08]');
    const leonardo = judgeUsbDevice(arduinoLeonardo, host, hid, [], now);
    expect(leonardo.allowed === false && leonardo.reasons[0]).toMatch(/also has \[02, 0a\]/);
    // A stick has nothing in common with a HID rule: not worth naming as a near miss.
    const stick = judgeUsbDevice(sandiskStick, host, hid, [], now);
    expect(stick.allowed === false && stick.reasons).toHaveLength(1);
    // A device reporting no interface classes cannot prove it is HID only.
    expect(judgeUsbDevice({ ...kinesisKeyboard, interfaceClasses: [] }, host, hid, [], now).allowed).toBe(false);
    const vendorHid = usbPolicy({ allow: [{ vendorId: '05f3', interfaceClasses: ['03'] }] });
    const none = judgeUsbDevice({ ...kinesisKeyboard, interfaceClasses: [] }, host, vendorHid, [], now);
    expect(none.allowed === false && none.reasons[0]).toMatch(/reports none/);
  });

  it('honours rule scope and expiry, to the millisecond', () => {
    const scoped = usbPolicy({ allow: [{ vendorId: '0781', scope: { groups: ['office'] } }, { vendorId: '0781', scope: { hostIds: [host.id] }, expires: '2026-03-01T12:00:00Z' }] });
    const v = judgeUsbDevice(sandiskStick, host, scoped, [], now);
    expect(v.allowed === false && v.reasons.slice(0, 2)).toEqual([
      'usb.allow[0] matches the device but does not apply to this host',
      'usb.allow[1] matches the device but expired at 2026-03-01T12:00:00Z',
    ]);
    expect(judgeUsbDevice(sandiskStick, host, scoped, [], now - 1)).toMatchObject({ allowed: true, allowedBy: { rule: 1 } });
    expect(judgeUsbDevice(sandiskStick, { ...host, groups: ['office'] }, scoped, [], now)).toMatchObject({ allowed: true, allowedBy: { rule: 0 } });
    const byDate = usbPolicy({ allow: [{ vendorId: '0781', expires: '2026-03-02' }] });
    expect(judgeUsbDevice(sandiskStick, host, byDate, [], Date.parse('2026-03-01T23:59:59.999Z')).allowed).toBe(true);
    expect(judgeUsbDevice(sandiskStick, host, byDate, [], Date.parse('2026-03-02T00:00:00Z')).allowed).toBe(false);
  });

  it('allows by an approval in scope and in date, by key or by product', () => {
    const byKey = approval({ scope: { hostId: host.id } });
    expect(judgeUsbDevice(sandiskStick, host, defaults, [byKey], now)).toEqual({ allowed: true, allowedBy: { kind: 'approval', approvalId: 'apr-1', by: 'analyst@example.org', reason: 'finance backup stick' } });
    const byProduct: UsbApproval = { id: 'apr-2', vendorId: '0FCE', productId: '0166', scope: { groups: ['finance'] }, by: 'analyst@example.org', reason: 'phones for the finance team' };
    expect(judgeUsbDevice(xperiaPhone, host, defaults, [byProduct], now)).toMatchObject({ allowed: true, allowedBy: { approvalId: 'apr-2' } });
    expect(judgeUsbDevice(sandiskStick, host, defaults, [approval({ scope: { all: true } })], now).allowed).toBe(true);
  });

  it('does not count an approval that has expired or covers other hosts, and says why', () => {
    const approvals = [
      approval({ id: 'apr-old', scope: { all: true }, expiresAt: now }),
      approval({ id: 'apr-other', scope: { hostId: '01936f2e-8a4b-7c3d-9e5f-ffffffffffff' } }),
      approval({ id: 'apr-hr', scope: { groups: ['hr'] } }),
      approval({ id: 'apr-phone', deviceKey: xperiaPhone.key, scope: { all: true } }),
    ];
    const v = judgeUsbDevice(sandiskStick, host, defaults, approvals, now);
    expect(v.allowed === false && v.reasons.slice(0, 3)).toEqual([
      expect.stringMatching(/^approval apr-old \(usb:0781:5581:.* on all hosts\) expired at 2026-03-01T12:00:00.000Z$/),
      expect.stringMatching(/^approval apr-other .* on host 01936f2e-8a4b-7c3d-9e5f-ffffffffffff\) does not cover this host$/),
      expect.stringMatching(/^approval apr-hr .* on groups hr\) does not cover this host$/),
    ]);
    expect(v.allowed === false && v.reasons).toHaveLength(4);
    expect(judgeUsbDevice(sandiskStick, host, defaults, [approvals[0] as UsbApproval], now - 1).allowed).toBe(true);
  });
});

describe('evaluateUsb', () => {
  const present = [ehciRootHub, intelHub, kinesisKeyboard, hidStorageGadget, sandiskStick];

  it('reports each unauthorised device once, keyed by device key, with why', () => {
    const settings = { usb: usbPolicy({ allow: [{ interfaceClasses: ['03'], note: 'keyboards and mice' }] }), severity: 'high' as const };
    const findings = evaluateUsb(present, host, settings, [], now);
    expect(findings.map((f) => f.subject)).toEqual(['usb:2345:5432:', sandiskStick.key]);
    expect(findings[0]).toEqual({
      rule: 'usb.unauthorised',
      subject: 'usb:2345:5432:',
      severity: 'high',
      details: {
        vendorId: '2345', productId: '5432', serial: '', manufacturer: 'Linux 3.10.49 with dwc_otg_pcd', product: 'Composite Gadget (HID + MS)',
        deviceClass: 'ef', interfaceClasses: ['03', '08'], removable: 'unknown', isHub: false, isRootHub: false, busPaths: ['1-1.3'],
        reasons: [expect.stringMatching(/also has \[08\]/), expect.stringMatching(/default deny/)],
      },
    });
    expect(JSON.parse(JSON.stringify(findings))).toEqual(findings);
  });

  it('makes two identical sticks without a serial one finding listing both ports', () => {
    const a = { ...hidStorageGadget, busPath: '1-1.3' };
    const b = { ...hidStorageGadget, busPath: '2-1' };
    const findings = evaluateUsb([a, b], host, { usb: defaults, severity: 'critical' }, [], now);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'critical', details: { busPaths: ['1-1.3', '2-1'] } });
  });

  it('finds nothing when every device is allowed, and nothing on a host with no devices', () => {
    const approvals = [approval({ scope: { all: true } }), approval({ id: 'apr-g', deviceKey: hidStorageGadget.key, scope: { groups: ['finance'] } })];
    const settings = { usb: usbPolicy({ allow: [{ vendorId: '05f3' }] }), severity: 'high' as const };
    expect(evaluateUsb(present, host, settings, approvals, now)).toEqual([]);
    expect(evaluateUsb([], host, settings, [], now)).toEqual([]);
  });
});
