import type { ProbeSources } from '../probe.js';
import { combineSources, type Inventory } from './source-result.js';
import { readAppx } from './win32-appx.js';
import { readRegistryPrograms } from './win32-registry.js';

/** Windows inventory: the Uninstall registry keys (machine, WOW6432Node, loaded user hives) and Appx packages. */
export async function readWin32Software(src: ProbeSources): Promise<Inventory> {
  const results = await Promise.all([readRegistryPrograms(src.runner, src.log), readAppx(src.runner)]);
  return combineSources(results, src.log, 'win32');
}
