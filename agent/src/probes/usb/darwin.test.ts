import fs from 'node:fs/promises';
import { UsbDevice } from '@vigil/shared';
import { describe, expect, it } from 'vitest';
import { isUnknown, type ProbeSources } from '../probe.js';
import { IOREG_COMMAND, parseIoregUsb, readDarwinUsb, signatureInterfaceClasses } from './darwin.js';
import { parsePlist } from './ioreg-plist.js';
import { fakeRunner } from './test-support/fake-runner.js';
import { ioregTextToPlist } from './test-support/ioreg-text.js';

const fixture = async (name: string) =>
  ioregTextToPlist(await fs.readFile(new URL(`../../../../test/fixtures/darwin/usb/${name}`, import.meta.url), 'utf8'));

async function readFromCapture(name: string): Promise<UsbDevice[]> {
  const runner = fakeRunner({ stdout: await fixture(name) });
  const out = await readDarwinUsb({ runner } as unknown as ProbeSources);
  expect(runner.calls.map((c) => [c.file, c.args])).toEqual([['/usr/sbin/ioreg', ['-p', 'IOUSB', '-l', '-w0', '-a']]]);
  if (isUnknown(out)) throw new Error(out.reason);
  for (const d of out) UsbDevice.parse(d);
  return out;
}

describe('macOS IORegistry USB reader on real captures', () => {
  it('reads a composite CDC board: serial, strings, and interface classes from UsbDeviceSignature', async () => {
    expect(await readFromCapture('micropython-board.ioreg.txt')).toEqual([
      {
        key: 'usb:2e8a:0005:e66178c1276d562d',
        vendorId: '2e8a',
        productId: '0005',
        serial: 'e66178c1276d562d',
        manufacturer: 'MicroPython',
        product: 'Board in FS mode',
        deviceClass: 'ef',
        interfaceClasses: ['02', '0a'],
        busPath: '0x01100000',
        removable: 'removable',
        isHub: false,
        isRootHub: false,
      },
    ]);
  });

  it('marks an internal Bluetooth controller fixed, with no serial and no strings', async () => {
    expect(await readFromCapture('internal-bluetooth.ioreg.txt')).toMatchObject([
      { key: 'usb:04ca:3018:', serial: '', product: 'IOUSBHostDevice', deviceClass: 'e0', interfaceClasses: ['e0'], removable: 'fixed', busPath: '0x14700000' },
    ]);
  });

  it('reads a HID device without a serial', async () => {
    expect(await readFromCapture('usbrelay8.ioreg.txt')).toMatchObject([
      { key: 'usb:16c0:05df:', interfaceClasses: ['03'], manufacturer: 'www.dcttech.com', product: 'USBRelay8', removable: 'removable' },
    ]);
  });

  it('does not guess removability from a port type it does not know for sure (captive)', async () => {
    expect(await readFromCapture('acr122u-nfc-reader.ioreg.txt')).toMatchObject([{ key: 'usb:072f:2200:', interfaceClasses: ['0b'], removable: 'unknown' }]);
  });

  it('walks the plane below controllers and hubs, skipping entries that are not devices', async () => {
    // Only the one device the capture printed with -l has its ids; hub and controller lines have none.
    expect(await readFromCapture('cynthion-tree.ioreg.txt')).toMatchObject([{ key: 'usb:1209:0001:', interfaceClasses: ['ff'], product: 'Simple USB Device' }]);
  });
});

describe('UsbDeviceSignature', () => {
  const sig = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

  it('finds the interface triples after the serial (values quoted in public captures)', () => {
    // Orbtrace, kevinmehall/nusb#37: CDC, CDC data, vendor, HID, vendor.
    expect(
      signatureInterfaceClasses(sig('091243343201333241383730383136333030384530360000000202010a0000ff5400ff5800030000ff0000ff5000ff5600'), '32A8708163008E06', [0, 0, 0]),
    ).toEqual([0x02, 0x0a, 0xff, 0xff, 0x03, 0xff, 0xff, 0xff]);
    // Launchpad X, rppicomidi/usb_midi_host#15: audio control, MIDI streaming, HID.
    expect(signatureInterfaceClasses(sig('35120b0100024158323831554239393033424544000000010100010300030101'), 'AX281UB9903BED', [0, 0, 0])).toEqual([1, 1, 3]);
    // A Sony Walkman with no serial string: mass storage.
    expect(signatureInterfaceClasses(sig('4c056a020001000000080650'), '', [0, 0, 0])).toEqual([8]);
  });

  it('finds the device triple when the serial property does not match the signature bytes', () => {
    expect(signatureInterfaceClasses(sig('8a2e0500000165363631373863313237366435363264ef02010202000a0000'), 'other', [0xef, 2, 1])).toEqual([2, 0x0a]);
    expect(signatureInterfaceClasses(sig('8a2e05'), '', [0, 0, 0])).toBeUndefined();
  });
});

describe('macOS plist reader', () => {
  it('decodes escaped device strings so they cannot forge structure', () => {
    const xml = `<plist version="1.0"><dict><key>idVendor</key><integer>4660</integer><key>idProduct</key><integer>22136</integer>
      <key>USB Product Name</key><string>&lt;/string&gt;&lt;key&gt;idVendor&lt;/key&gt;&#x7;Evil&amp;Co</string>
      <key>USB Serial Number</key><string/><key>bDeviceClass</key><integer>0</integer></dict></plist>`;
    const [d] = parseIoregUsb(xml);
    expect(d).toMatchObject({ vendorId: '1234', productId: '5678', product: '</string><key>idVendor</key>Evil&Co', serial: '' });
    expect(UsbDevice.parse(d)).toBeTruthy();
  });

  it('rejects malformed input, and the probe says so instead of throwing', async () => {
    expect(() => parsePlist('<plist><dict><key>a</key></plist>')).toThrow();
    expect(() => parsePlist('<plist><array><foo/></array></plist>')).toThrow(/unsupported/);
    const out = await readDarwinUsb({ runner: fakeRunner({ stdout: '<plist><dict>' }) } as unknown as ProbeSources);
    expect(out).toEqual({ status: 'unknown', reason: expect.stringMatching(/unreadable property list/) });
    const missing = await readDarwinUsb({ runner: fakeRunner({ error: 'not-found', code: null }) } as unknown as ProbeSources);
    expect(missing).toEqual({ status: 'unknown', reason: `${IOREG_COMMAND.file} not found: cannot read the USB registry` });
  });
});
