import fs from 'node:fs';
import path from 'node:path';

/**
 * The few file-system steps the outbox needs to be crash-safe: fsync a directory after creating,
 * renaming or deleting an entry in it, and replace a file atomically (write a temporary file,
 * fsync it, rename it over the old one, fsync the directory).
 */

/** Suffix of temporary files; anything ending in it is left over from a crash and deleted on open. */
const TMP_SUFFIX = '.tmp';

/**
 * Makes the directory entry changes (create, rename, unlink) in `dir` durable. Windows cannot
 * open a directory for fsync; there NTFS journals the metadata itself, so the step is skipped.
 */
export function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` to `file` with fsync when `durable`: after a crash a reader sees the whole file or none of it. */
function writeNewFile(file: string, data: Uint8Array | string, durable: boolean): void {
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    if (durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Replaces `file` atomically: after a crash it holds either the old or the new content, never a
 * mix. With `durable` the new content is on disk when this returns.
 */
export function replaceFileAtomic(file: string, data: Uint8Array | string, durable: boolean): void {
  const tmp = file + TMP_SUFFIX;
  writeNewFile(tmp, data, durable);
  fs.renameSync(tmp, file);
  if (durable) fsyncDir(path.dirname(file));
}

/** Deletes temporary files a crash left behind in `dir`; returns their names. */
export function removeStaleTmpFiles(dir: string): string[] {
  const stale = fs.readdirSync(dir).filter((name) => name.endsWith(TMP_SUFFIX));
  for (const name of stale) fs.rmSync(path.join(dir, name), { force: true });
  return stale;
}
