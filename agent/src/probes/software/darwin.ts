import type { ProbeSources } from '../probe.js';
import { readApplications } from './darwin-apps.js';
import { readBrew } from './darwin-brew.js';
import { combineSources, type Inventory } from './source-result.js';

/** macOS inventory: application bundles (system and per-user Applications folders) and Homebrew. */
export async function readDarwinSoftware(src: ProbeSources): Promise<Inventory> {
  const results = await Promise.all([readApplications(src.fsRoot, src.runner, src.log), readBrew(src.fsRoot, src.runner, src.log)]);
  return combineSources(results, src.log, 'darwin');
}
