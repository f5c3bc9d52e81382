import type { UsbDevice } from '@vigil/shared/agent';
import { unknown, type ProbeOutcome, type ProbeSources } from '../probe.js';
import { readDarwinUsb } from './darwin.js';
import { readLinuxUsb } from './linux.js';
import { readWindowsUsb } from './win32.js';

/** The USB devices present now, read the way this platform allows (sysfs, PnP, IORegistry). */
export function readUsbDevices(src: ProbeSources): Promise<ProbeOutcome<UsbDevice>> {
  switch (src.platform) {
    case 'linux':
      return readLinuxUsb(src.sysfsRoot);
    case 'win32':
      return readWindowsUsb(src);
    case 'darwin':
      return readDarwinUsb(src);
    default:
      return Promise.resolve(unknown(`USB devices are not read on ${src.platform}`));
  }
}
