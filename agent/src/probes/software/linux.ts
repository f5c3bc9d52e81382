import type { ProbeSources } from '../probe.js';
import { readDpkg } from './linux-dpkg.js';
import { readFlatpak } from './linux-flatpak.js';
import { readRpm } from './linux-rpm.js';
import { readSnap } from './linux-snap.js';
import { combineSources, type Inventory } from './source-result.js';

/** Linux inventory: dpkg, rpm, snap and flatpak, read concurrently and combined by `combineSources`. */
export async function readLinuxSoftware(src: ProbeSources): Promise<Inventory> {
  const results = await Promise.all([
    readDpkg(src.dpkgStatus),
    readRpm(src.runner),
    readSnap(src.runner),
    readFlatpak(src.runner, src.fsRoot, src.log),
  ]);
  return combineSources(results, src.log, 'linux');
}
