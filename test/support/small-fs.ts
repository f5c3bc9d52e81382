import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A small tmpfs for storage faults: fill it (ENOSPC), remount it read-only. Needs root and
 * mount(8) (tests run as root, which ignores file modes, so a chmod would prove nothing).
 */
export interface SmallFs {
  readonly dir: string;
  /** Writes a filler file until the filesystem is full; returns the bytes written. */
  fill(): number;
  /** Removes the filler: the space returns. */
  free(): void;
  /** `mount -o remount,ro|rw`; throws with mount's message (EBUSY while a file is open for writing). */
  remount(mode: 'ro' | 'rw'): void;
  /** Bytes still available. */
  available(): number;
  unmount(): void;
}

/** Why a test that needs a small filesystem cannot run here, or null when it can. */
export function smallFsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to mount a small tmpfs (the storage fault tests use one)';
  const probe = fs.mkdtempSync('/tmp/vigil-mount-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `mount -t tmpfs is not permitted here: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

export function mountSmallFs(dir: string, sizeBytes: number): SmallFs {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  const filler = path.join(dir, 'filler');
  let mounted = true;
  return {
    dir,
    fill() {
      const fd = fs.openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      let written = 0;
      try {
        for (let size = chunk.length; size >= 1; ) {
          try {
            written += fs.writeSync(fd, chunk, 0, size);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
            size = size >> 1;
          }
        }
      } finally {
        fs.closeSync(fd);
      }
      return written;
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    remount(mode) {
      execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' });
    },
    available() {
      const s = fs.statfsSync(dir);
      return s.bavail * s.bsize;
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      // Lazy: a process that still holds a file there cannot keep the mount behind.
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    },
  };
}

/**
 * A small ext4 filesystem on a loop device, mounted `errors=remount-ro`: `fail()` raises an ext4
 * error (sysfs `trigger_fs_error`) and the kernel turns it read-only at once, as it does when a
 * disk fails, open files or not (`mount -o remount,ro` refuses while a file is open for writing).
 * The journal is aborted with it, so getting it writable again takes what it takes in life:
 * stop the writer, unmount, e2fsck, mount (`repair()`).
 */
export interface LoopExt4 {
  readonly dir: string;
  fail(): void;
  /** Unmounts, checks (`e2fsck -fy`) and mounts the filesystem again, writable. */
  repair(): void;
  unmount(): void;
}

export function loopExt4Unavailable(): string | null {
  const why = smallFsUnavailable();
  if (why) return why;
  for (const tool of ['mkfs.ext4', 'e2fsck', 'losetup']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    } catch {
      return `${tool} is not installed (the read-only test uses an ext4 loop filesystem)`;
    }
  }
  if (!fs.existsSync('/dev/loop-control')) return 'no loop devices here (/dev/loop-control)';
  return null;
}

export function mountLoopExt4(dir: string, sizeBytes: number): LoopExt4 {
  fs.mkdirSync(dir, { recursive: true });
  const image = `${dir}.img`;
  fs.writeFileSync(image, '');
  fs.truncateSync(image, sizeBytes);
  execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'pipe' });
  const mount = () => execFileSync('mount', ['-o', 'loop,errors=remount-ro', image, dir], { stdio: 'pipe' });
  mount();
  let mounted = true;
  const device = () => execFileSync('findmnt', ['-no', 'SOURCE', dir], { encoding: 'utf8' }).trim();
  return {
    dir,
    fail() {
      fs.writeFileSync(`/sys/fs/ext4/${path.basename(device())}/trigger_fs_error`, 'vigil storage fault test\n');
    },
    repair() {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      try {
        execFileSync('e2fsck', ['-fy', image], { stdio: 'pipe' });
      } catch (err) {
        // 1: errors corrected; anything above is a real failure.
        if ((err as { status?: number }).status !== 1) throw err;
      }
      mount();
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } catch {
        // not mounted (a failed repair)
      }
      fs.rmSync(image, { force: true });
    },
  };
}
