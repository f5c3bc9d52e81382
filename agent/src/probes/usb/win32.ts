import type { UsbDevice } from '@vigil/shared/agent';
import { unknown, type ProbeOutcome, type ProbeSources } from '../probe.js';
import { toUsbDevice, type Removable } from './usb-device.js';

/**
 * The PowerShell the agent runs on Windows: every present PnP node enumerated by the USB bus
 * driver (`USB\...`: devices, their interface children `&MI_xx`, root hubs) with the
 * properties Win32_PnPEntity lacks (parent, capabilities, port location, the product string
 * the device itself reports), as JSON so that no device-supplied string can forge a field.
 */
export const WINDOWS_USB_SCRIPT = [
  "$ErrorActionPreference = 'Stop'",
  '[Console]::OutputEncoding = [System.Text.Encoding]::UTF8',
  "$d = @(Get-CimInstance -ClassName Win32_PnPEntity -Filter \"PNPDeviceID LIKE 'USB\\\\%'\")",
  '$p = @{}',
  'if ($d.Count -gt 0) {',
  '  Get-PnpDeviceProperty -InstanceId @($d.PNPDeviceID) -ErrorAction SilentlyContinue -KeyName ' +
    'DEVPKEY_Device_Parent,DEVPKEY_Device_Capabilities,DEVPKEY_Device_LocationInfo,DEVPKEY_Device_BusReportedDeviceDesc |',
  "    ForEach-Object { $p[$_.InstanceId + '|' + $_.KeyName] = $_.Data }",
  '}',
  'ConvertTo-Json -Compress -Depth 3 -InputObject @($d | ForEach-Object {',
  '  $i = $_.PNPDeviceID',
  '  [pscustomobject]@{ PNPDeviceID = $i; Name = $_.Name; Present = $_.Present; Service = $_.Service;',
  '    CompatibleID = @($_.CompatibleID | Where-Object { $_ }); HardwareID = @($_.HardwareID | Where-Object { $_ });',
  "    Parent = $p[$i + '|DEVPKEY_Device_Parent']; Capabilities = $p[$i + '|DEVPKEY_Device_Capabilities'];",
  "    LocationInfo = $p[$i + '|DEVPKEY_Device_LocationInfo']; BusReportedDeviceDesc = $p[$i + '|DEVPKEY_Device_BusReportedDeviceDesc'] }",
  '})',
].join('\n');

/** One element of the script's JSON array (Win32_PnPEntity names, plus the device properties). */
interface PnpRecord {
  PNPDeviceID?: unknown;
  Name?: unknown;
  Present?: unknown;
  Service?: unknown;
  CompatibleID?: unknown;
  HardwareID?: unknown;
  Parent?: unknown;
  Capabilities?: unknown;
  LocationInfo?: unknown;
  BusReportedDeviceDesc?: unknown;
}

/** `USB\VID_0781&PID_5581\<instance>` and a composite's interface child `...&MI_01\<instance>`. */
const DEVICE_ID = /^USB\\VID_([0-9A-F]{4})&PID_([0-9A-F]{4})(?:&MI_([0-9A-F]{2}))?\\(.+)$/i;
const ROOT_HUB_ID = /^USB\\ROOT_HUB[0-9]*\\/i;
/** Root hubs spell the ids without underscores: `USB\ROOT_HUB30&VID8086&PIDA12F&REV0031`. */
const HARDWARE_VID_PID = /VID_?([0-9A-F]{4})&PID_?([0-9A-F]{4})/i;
const CLASS_ID = /^USB\\Class_([0-9A-F]{2})(?:&|$)/i;
const DEV_CLASS_ID = /^USB\\DevClass_([0-9A-F]{2})(?:&|$)/i;
/** CM_DEVCAP_REMOVABLE: the hub reports this port as user-accessible. */
const CM_DEVCAP_REMOVABLE = 0x4;

const strings = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).filter((s): s is string => typeof s === 'string');
const firstMatch = (ids: string[], re: RegExp): string | undefined => ids.map((s) => re.exec(s)?.[1]).find(Boolean);

function removableOf(capabilities: unknown): Removable {
  if (typeof capabilities !== 'number' || !Number.isInteger(capabilities)) return 'unknown';
  return capabilities & CM_DEVCAP_REMOVABLE ? 'removable' : 'fixed';
}

/**
 * Turns the script's JSON into devices. A composite device's interface classes come from its
 * `&MI_xx` children (matched by their parent property, or by vendor and product id when the
 * parent is not known); a single-function device's from its own `USB\Class_xx` compatible id.
 * A serial Windows generated itself (it contains `&`) is reported as no serial.
 */
export function parseWindowsUsb(json: string): UsbDevice[] {
  const parsed: unknown = json.trim() === '' ? [] : JSON.parse(json);
  const records = (Array.isArray(parsed) ? parsed : [parsed]).filter(
    (r): r is PnpRecord => typeof r === 'object' && r !== null && typeof (r as PnpRecord).PNPDeviceID === 'string',
  );
  const present = records.filter((r) => r.Present !== false);
  const children = present.flatMap((r) => {
    const m = DEVICE_ID.exec(r.PNPDeviceID as string);
    const cls = firstMatch(strings(r.CompatibleID), CLASS_ID);
    return m?.[3] && cls ? [{ vidPid: `${m[1]}&${m[2]}`.toLowerCase(), parent: r.Parent, cls }] : [];
  });
  const devices: UsbDevice[] = [];
  for (const r of present) {
    const id = r.PNPDeviceID as string;
    const m = DEVICE_ID.exec(id);
    const isRootHub = ROOT_HUB_ID.test(id);
    if ((!m || m[3]) && !isRootHub) continue; // interface children and non-device nodes
    const hw = m ? undefined : HARDWARE_VID_PID.exec(strings(r.HardwareID).join(' '));
    const compatible = strings(r.CompatibleID);
    const devClass = firstMatch(compatible, DEV_CLASS_ID);
    const cls = firstMatch(compatible, CLASS_ID);
    const composite = devClass !== undefined || compatible.some((c) => /^USB\\COMPOSITE$/i.test(c));
    const vidPid = m ? `${m[1]}&${m[2]}`.toLowerCase() : '';
    const mine = children.filter((c) =>
      typeof c.parent === 'string' ? c.parent.toLowerCase() === id.toLowerCase() : c.vidPid === vidPid,
    );
    const service = typeof r.Service === 'string' ? r.Service.toLowerCase() : '';
    const isHub = isRootHub || devClass === '09' || cls === '09' || service === 'usbhub' || service === 'usbhub3';
    const instance = m?.[4] ?? '';
    const device = toUsbDevice({
      vendorId: m?.[1] ?? hw?.[1],
      productId: m?.[2] ?? hw?.[2],
      serial: instance.includes('&') ? '' : instance,
      // Win32_PnPEntity's Manufacturer is the driver package's provider, not the device's string.
      manufacturer: '',
      product: typeof r.BusReportedDeviceDesc === 'string' && r.BusReportedDeviceDesc.trim() ? r.BusReportedDeviceDesc : r.Name,
      // Windows only tells the device class apart for composite devices (`DevClass_xx`); for a
      // single function `Class_xx` may be the device's or its interface's, so only a hub is sure.
      deviceClass: devClass ?? (isHub ? '09' : '00'),
      interfaceClasses: composite ? mine.map((c) => c.cls) : cls ? [cls] : [],
      busPath: typeof r.LocationInfo === 'string' && r.LocationInfo.trim() ? r.LocationInfo : id,
      removable: removableOf(r.Capabilities),
      isRootHub,
      isHub,
    });
    if (device) devices.push(device);
  }
  return devices;
}

/** Runs the script (as `-EncodedCommand`, so no quoting can go wrong) and parses its output. */
export async function readWindowsUsb(src: Pick<ProbeSources, 'runner'>): Promise<ProbeOutcome<UsbDevice>> {
  const encoded = Buffer.from(WINDOWS_USB_SCRIPT, 'utf16le').toString('base64');
  const res = await src.runner.run(
    'powershell.exe',
    ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', encoded],
    { timeoutMs: 60_000 },
  );
  if (res.error === 'not-found') return unknown('powershell.exe not found: cannot read PnP devices');
  if (res.error || res.code !== 0) {
    return unknown(`PnP device query failed (${res.error ?? `exit ${res.code}`}): ${res.stderr.trim().slice(0, 500)}`);
  }
  try {
    return parseWindowsUsb(res.stdout);
  } catch (err) {
    return unknown(`PnP device query printed unreadable JSON: ${(err as Error).message}`);
  }
}
