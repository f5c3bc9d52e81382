import fs from 'node:fs';
import path from 'node:path';
import { storageErrorCode } from './storage-health.js';

export type DataDirCheck = { ok: true } | { ok: false; code: string; message: string };

const WHY: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the filesystem is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EIO: 'input/output error',
};

/**
 * Before the database is opened: can `dir` take a write of `probeBytes`, synced? A collector on
 * a full or read-only disk refuses to start, saying so, rather than starting and refusing every
 * agent (SQLite may open a file it can only read, and fail only at the first write).
 */
export function checkDataDir(dir: string, probeBytes = 1024 * 1024): DataDirCheck {
  if (dir === ':memory:') return { ok: true };
  const file = path.join(dir, `.vigil-write-check-${process.pid}`);
  let fd: number | undefined;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fd = fs.openSync(file, 'w', 0o600);
    fs.writeSync(fd, Buffer.alloc(probeBytes));
    fs.fsyncSync(fd);
    return { ok: true };
  } catch (err) {
    const code = storageErrorCode(err) ?? String((err as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
    const free = freeBytes(dir);
    return {
      ok: false,
      code,
      message: `cannot write in the data directory ${dir}: ${WHY[code] ?? (err as Error).message} (${code}${free === null ? '' : `; ${free} bytes free`})`,
    };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

function freeBytes(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}
