import type { UsbDevice } from '@vigil/shared';

/**
 * UsbDevice facts as the agent's Linux reader produces them from the real sysfs captures in
 * `test/fixtures/linux/usb/` (see its SOURCES.md); `agent/src/probes/usb/linux.test.ts` asserts
 * the same values. The Arduino Leonardo is the one device not from those captures: its ids and its
 * interface layout (CDC ACM 02 + CDC data 0a + HID 03) are the board's published USB descriptors.
 */

const SANDISK_SERIAL = '0101287b9ee652db333a1560368abfae4422b1627bbda1aa660dfd4eb912a25474d10000000000000000000058462866008b2a0081558107a7295366';

const device = (d: Omit<UsbDevice, 'key'>): UsbDevice => ({ key: `usb:${d.vendorId}:${d.productId}:${d.serial}`, ...d });

/** sandisk-stick.json, 1-1.2: mass storage only. */
export const sandiskStick = device({
  vendorId: '0781', productId: '5581', serial: SANDISK_SERIAL, manufacturer: 'USB', product: 'SanDisk 3.2Gen1',
  deviceClass: '00', interfaceClasses: ['08'], busPath: '1-1.2', removable: 'unknown', isHub: false, isRootHub: false,
});

/** kinesis-keyboard.json, 1-1.5.4.2: a HID keyboard, no serial, no strings. */
export const kinesisKeyboard = device({
  vendorId: '05f3', productId: '0007', serial: '', manufacturer: '', product: '',
  deviceClass: '00', interfaceClasses: ['03'], busPath: '1-1.5.4.2', removable: 'unknown', isHub: false, isRootHub: false,
});

/** hid-storage-gadget.json, 1-1.3: a keyboard that is also a mass-storage device (BadUSB pattern). */
export const hidStorageGadget = device({
  vendorId: '2345', productId: '5432', serial: '', manufacturer: 'Linux 3.10.49 with dwc_otg_pcd', product: 'Composite Gadget (HID + MS)',
  deviceClass: 'ef', interfaceClasses: ['03', '08'], busPath: '1-1.3', removable: 'unknown', isHub: false, isRootHub: false,
});

/** sony-xperia-phone.json, 1-1.5.2.4: a phone in MTP mode (vendor-specific interface). */
export const xperiaPhone = device({
  vendorId: '0fce', productId: '0166', serial: '0123456789ABCDEF', manufacturer: 'Sony', product: 'MiniPro',
  deviceClass: '00', interfaceClasses: ['ff'], busPath: '1-1.5.2.4', removable: 'unknown', isHub: false, isRootHub: false,
});

/** kinesis-keyboard.json, usb1: the EHCI root hub. */
export const ehciRootHub = device({
  vendorId: '1d6b', productId: '0002', serial: '0000:00:1a.0', manufacturer: 'Linux 3.10.0-2-generic ehci_hcd', product: 'EHCI Host Controller',
  deviceClass: '09', interfaceClasses: ['09'], busPath: 'usb1', removable: 'unknown', isHub: true, isRootHub: true,
});

/** kinesis-keyboard.json, 1-1: the board's Intel rate-matching hub, reported fixed. */
export const intelHub = device({
  vendorId: '8087', productId: '0020', serial: '', manufacturer: '', product: '',
  deviceClass: '09', interfaceClasses: ['09'], busPath: '1-1', removable: 'fixed', isHub: true, isRootHub: false,
});

/** Arduino Leonardo (2341:8036): CDC serial and HID keyboard/mouse in one device. */
export const arduinoLeonardo = device({
  vendorId: '2341', productId: '8036', serial: '', manufacturer: 'Arduino LLC', product: 'Arduino Leonardo',
  deviceClass: 'ef', interfaceClasses: ['02', '0a', '03'], busPath: '1-1.4', removable: 'removable', isHub: false, isRootHub: false,
});
