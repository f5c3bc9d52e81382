import { constants } from 'node:fs';
import fs from 'node:fs/promises';

/**
 * Reads a small configuration file that may sit in a user-controlled directory, as the agent
 * (often root) runs: the last path component is not followed if it is a symlink, only regular
 * files are read (a FIFO would block forever), and the size is capped.
 */

export type SmallFile = { kind: 'absent' } | { kind: 'text'; text: string } | { kind: 'error'; reason: string };

export async function readSmallFile(file: string, maxBytes: number): Promise<SmallFile> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = await handle.stat();
    if (!st.isFile()) return { kind: 'error', reason: `${file} is not a regular file` };
    if (st.size > maxBytes) return { kind: 'error', reason: `${file} is larger than ${maxBytes} bytes` };
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead > maxBytes) return { kind: 'error', reason: `${file} is larger than ${maxBytes} bytes` };
    return { kind: 'text', text: buf.subarray(0, bytesRead).toString('utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'absent' };
    if (code === 'ELOOP') return { kind: 'error', reason: `${file} is a symbolic link (not followed)` };
    return { kind: 'error', reason: `${file} could not be read (${code ?? 'error'})` };
  } finally {
    await handle?.close();
  }
}

/** Whether something exists at `p` (a file, a directory, a program): anything unreadable counts as no. */
export const pathExists = (p: string): Promise<boolean> =>
  fs.access(p).then(
    () => true,
    () => false,
  );
