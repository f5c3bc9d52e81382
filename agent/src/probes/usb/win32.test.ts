import fs from 'node:fs/promises';
import { UsbDevice } from '@vigil/shared';
import { describe, expect, it } from 'vitest';
import { isUnknown, type ProbeSources } from '../probe.js';
import { fakeRunner, silentLog } from './test-support/fake-runner.js';
import { wmiTextToJson } from './test-support/wmi-text.js';
import { parseWindowsUsb, readWindowsUsb, WINDOWS_USB_SCRIPT } from './win32.js';

const fixture = (name: string) => fs.readFile(new URL(`../../../../test/fixtures/win32/usb/${name}`, import.meta.url), 'utf8');

async function readFromCapture(name: string): Promise<{ devices: UsbDevice[]; calls: ReturnType<typeof fakeRunner>['calls'] }> {
  const runner = fakeRunner({ stdout: wmiTextToJson(await fixture(name)) });
  const src = { platform: 'win32', runner, log: silentLog } as unknown as ProbeSources;
  const out = await readWindowsUsb(src);
  if (isUnknown(out)) throw new Error(out.reason);
  for (const d of out) UsbDevice.parse(d);
  return { devices: out, calls: runner.calls };
}

describe('windows PnP USB reader on real captures', () => {
  it('runs PowerShell with the script encoded, no shell, and a time limit', async () => {
    const { calls } = await readFromCapture('cp210x-uart.format-list.txt');
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.file).toBe('powershell.exe');
    expect(call?.args.slice(0, 5)).toEqual(['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
    expect(Buffer.from(call?.args[5] ?? '', 'base64').toString('utf16le')).toBe(WINDOWS_USB_SCRIPT);
    expect(call?.opts?.timeoutMs).toBeGreaterThan(0);
  });

  it('reads a mass-storage stick and ignores its USBSTOR disk node', async () => {
    const { devices } = await readFromCapture('sandisk-stick.format-list.txt');
    expect(devices).toEqual([
      {
        key: 'usb:0781:5581:A20054F50D478A23',
        vendorId: '0781',
        productId: '5581',
        serial: 'A20054F50D478A23',
        manufacturer: '',
        product: 'USB 大容量存储设备',
        deviceClass: '00',
        interfaceClasses: ['08'],
        busPath: 'USB\\VID_0781&PID_5581\\A20054F50D478A23',
        removable: 'unknown',
        isHub: false,
        isRootHub: false,
      },
    ]);
  });

  it('gives a composite keyboard the classes of its interface children, and no serial for a generated one', async () => {
    const { devices } = await readFromCapture('keyboard-mouse.wmic-value.txt');
    const keyboard = devices.find((d) => d.productId === '04e0');
    expect(keyboard).toMatchObject({ key: 'usb:c0f4:04e0:', serial: '', interfaceClasses: ['03'], product: 'USB Composite Device' });
    const mouse = devices.find((d) => d.productId === '0ba6');
    expect(mouse).toMatchObject({ key: 'usb:275d:0ba6:', interfaceClasses: ['03'], isHub: false });
    // The capture's root hub record is cut off before its hardware ids: it cannot be named, so it is left out.
    expect(devices).toHaveLength(2);
  });

  it('reads a single-function vendor-class device with a real serial', async () => {
    const { devices } = await readFromCapture('cp210x-uart.format-list.txt');
    expect(devices).toMatchObject([{ key: 'usb:10c4:ea60:0001', interfaceClasses: ['ff'], product: 'Silicon Labs CP210x USB to UART Bridge (COM18)' }]);
  });
});

describe('windows PnP USB parser', () => {
  // Hardware ids as Windows spells them for a root hub (quoted in a published hardware report).
  const rootHub = {
    PNPDeviceID: 'USB\\ROOT_HUB30\\4&B9EB813&0&0',
    Name: 'USB Root Hub (USB 3.0)',
    Present: true,
    Service: 'USBHUB3',
    CompatibleID: [],
    HardwareID: ['USB\\ROOT_HUB30&VID8086&PID06ED&REV0000', 'USB\\ROOT_HUB30&VID8086&PID06ED', 'USB\\ROOT_HUB30'],
    Capabilities: 0x80, // SURPRISEREMOVALOK only: no CM_DEVCAP_REMOVABLE (0x4)
    LocationInfo: null,
  };

  it('reports root hubs and hubs as such, with the port removability Windows knows', () => {
    const [hub] = parseWindowsUsb(JSON.stringify([rootHub]));
    expect(hub).toMatchObject({ vendorId: '8086', productId: '06ed', isHub: true, isRootHub: true, deviceClass: '09', removable: 'fixed' });
  });

  it('uses the parent property, the bus-reported name and the port location when the script has them', () => {
    const parent = 'USB\\VID_2345&PID_5432\\5&1A2B3C4D&0&3';
    const devices = parseWindowsUsb(
      JSON.stringify([
        { PNPDeviceID: parent, Name: 'USB Composite Device', CompatibleID: ['USB\\DevClass_EF&SubClass_02&Prot_01', 'USB\\COMPOSITE'], Capabilities: 0x94, LocationInfo: 'Port_#0003.Hub_#0001', BusReportedDeviceDesc: 'Composite Gadget (HID + MS)' },
        { PNPDeviceID: 'USB\\VID_2345&PID_5432&MI_00\\6&1&0&0000', Parent: parent, CompatibleID: ['USB\\Class_03&SubClass_00&Prot_01'] },
        { PNPDeviceID: 'USB\\VID_2345&PID_5432&MI_01\\6&1&0&0001', Parent: parent, CompatibleID: ['USB\\Class_08&SubClass_06&Prot_50'] },
        { PNPDeviceID: 'USB\\VID_2345&PID_5432&MI_02\\7&9&0&0002', Parent: 'USB\\VID_2345&PID_5432\\OTHER', CompatibleID: ['USB\\Class_E0'] },
        { PNPDeviceID: 'USB\\VID_FFFF&PID_0001\\GONE', Present: false, CompatibleID: ['USB\\Class_08'] },
      ]),
    );
    expect(devices).toEqual([
      expect.objectContaining({ deviceClass: 'ef', interfaceClasses: ['03', '08'], removable: 'removable', busPath: 'Port_#0003.Hub_#0001', product: 'Composite Gadget (HID + MS)' }),
    ]);
  });

  it('keeps hostile names inert and within the schema', () => {
    const [d] = parseWindowsUsb(
      JSON.stringify([{ PNPDeviceID: 'USB\\VID_1234&PID_5678\\<b>x</b>', Name: `\u001b]0;pwn\u0007<img src=x onerror=alert(1)>${'A'.repeat(400)}`, CompatibleID: ['USB\\Class_03'] }]),
    );
    expect(UsbDevice.parse(d)).toBeTruthy();
    expect(d?.serial).toBe('<b>x</b>');
    expect(d?.product.startsWith(']0;pwn<img src=x onerror=alert(1)>')).toBe(true);
    expect(d?.product).toHaveLength(256);
  });

  it('says why when PowerShell is missing, fails, or prints something that is not JSON', async () => {
    const run = async (r: Parameters<typeof fakeRunner>[0]) =>
      readWindowsUsb({ runner: fakeRunner(r) } as unknown as ProbeSources);
    expect(await run({ error: 'not-found', code: null })).toEqual({ status: 'unknown', reason: expect.stringMatching(/powershell.exe not found/) });
    expect(await run({ code: 1, stderr: 'Get-CimInstance : Access denied' })).toEqual({ status: 'unknown', reason: expect.stringMatching(/exit 1.*Access denied/) });
    expect(await run({ stdout: '{not json' })).toEqual({ status: 'unknown', reason: expect.stringMatching(/unreadable JSON/) });
    expect(await run({ stdout: '' })).toEqual([]);
  });
});
