import { VigilError } from '@vigil/shared';

/**
 * SQLite's and the OS's ways of saying the database cannot be written: the filesystem is full
 * (SQLITE_FULL, ENOSPC, EDQUOT), read-only (SQLITE_READONLY*, EROFS), or failing (SQLITE_IOERR*).
 * Neither a bug in a request nor something the collector can fix: it refuses writes, with a code,
 * until the storage can be written again.
 */
const SQLITE_STORAGE = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|PERM)/;
const OS_STORAGE = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EACCES', 'EPERM']);

/** The storage error code in `err` (or in its causes), or null when it is not a storage failure. */
export function storageErrorCode(err: unknown): string | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (SQLITE_STORAGE.test(code) || OS_STORAGE.has(code)) return code;
  }
  return null;
}

/** Whether `err` is the coded refusal a write gets while the storage cannot be written. */
export function isStorageUnavailable(err: unknown): boolean {
  return err instanceof VigilError && err.code === 'VIGIL_ERR_STORAGE_UNAVAILABLE';
}

export function storageUnavailable(cause: unknown, code = storageErrorCode(cause)): VigilError {
  return new VigilError('VIGIL_ERR_STORAGE_UNAVAILABLE', undefined, { cause, details: code ? { reason: code } : undefined });
}

export type StorageEvent =
  | { kind: 'unavailable'; code: string; err: unknown }
  | { kind: 'available'; unavailableMs: number; refusedWrites: number };

/**
 * Whether the database can be written, as the last writes found. A storage failure marks it
 * unavailable at once (one event, however many writes fail after it); only a successful write
 * probe (see the storage-health plugin) marks it available again, so a disk with a few pages
 * free does not flap between the two with every batch.
 */
export class StorageHealth {
  private unavailableSince: number | null = null;
  private code: string | null = null;
  private refused = 0;
  private readonly listeners = new Set<(e: StorageEvent) => void>();

  get available(): boolean {
    return this.unavailableSince === null;
  }

  /** Why it is unavailable (the SQLite or errno code), or null. */
  get reason(): string | null {
    return this.code;
  }

  /** Writes refused since it became unavailable. */
  get refusedWrites(): number {
    return this.refused;
  }

  /** A write failed: true (and the storage marked unavailable) when it failed for the storage's sake. */
  failed(err: unknown, now = Date.now()): boolean {
    const code = storageErrorCode(err);
    if (code === null) return false;
    this.refused++;
    if (this.unavailableSince === null) {
      this.unavailableSince = now;
      this.code = code;
      this.emit({ kind: 'unavailable', code, err });
    }
    return true;
  }

  /** A write probe succeeded: the storage can be written again. */
  recovered(now = Date.now()): void {
    if (this.unavailableSince === null) return;
    const event: StorageEvent = { kind: 'available', unavailableMs: now - this.unavailableSince, refusedWrites: this.refused };
    this.unavailableSince = null;
    this.code = null;
    this.refused = 0;
    this.emit(event);
  }

  onChange(listener: (e: StorageEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: StorageEvent): void {
    for (const l of this.listeners) l(e);
  }
}
