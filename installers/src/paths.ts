import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where things are: the repository, this package, its templates and its download cache. */
export const INSTALLERS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(INSTALLERS_DIR, '..');
export const AGENT_DIR = path.join(REPO_ROOT, 'agent');
export const CACHE_DIR = path.join(INSTALLERS_DIR, '.cache');
export const DEFAULT_OUT_DIR = path.join(INSTALLERS_DIR, 'out');
export const TEMPLATE = {
  linux: path.join(INSTALLERS_DIR, 'linux'),
  windows: path.join(INSTALLERS_DIR, 'windows'),
  macos: path.join(INSTALLERS_DIR, 'macos'),
  launcher: path.join(INSTALLERS_DIR, 'launcher'),
};
