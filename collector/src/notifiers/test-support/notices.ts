import type { Alert } from '@vigil/shared';
import type { AlertNotice } from '../types.js';

/** A realistic USB alert, as the engine records one after a second attach of the same stick. */
export function usbAlert(over: Partial<Alert> = {}): Alert {
  return {
    id: '0190f5a2-7c1e-7b3a-9d4e-2f6a8b1c3d5e',
    rule: 'usb.unauthorised',
    hostId: '0190f5a0-1111-7222-8333-444455556666',
    hostname: 'ws-0042',
    subject: 'usb:0781:5567:4C530001230101117264',
    severity: 'high',
    status: 'open',
    firstSeenAt: '2025-03-04T09:15:02.120Z',
    lastSeenAt: '2025-03-04T09:41:37.981Z',
    count: 2,
    details: {
      vendorId: '0781',
      productId: '5567',
      serial: '4C530001230101117264',
      manufacturer: 'SanDisk',
      product: 'Cruzer Blade',
      deviceClass: '00',
      interfaceClasses: ['08'],
      removable: true,
      busPaths: ['1-1.2'],
      reasons: ['no allow rule or approval covers this device'],
    },
    monitorOnly: false,
    acknowledgedBy: null,
    acknowledgedAt: null,
    resolution: null,
    resolvedBy: null,
    resolvedAt: null,
    note: null,
    updatedAt: '2025-03-04T09:41:37.981Z',
    cursor: '17',
    ...over,
  };
}

export function alertNotice(over: Partial<Omit<AlertNotice, 'alert'>> = {}, alert: Partial<Alert> = {}): AlertNotice {
  const a = usbAlert(alert);
  return { cursor: a.cursor, action: 'opened', actor: 'engine', note: null, alert: a, ...over };
}
