import { describe, expect, it } from 'vitest';
import { VigilError } from '@vigil/shared';
import { openStore } from './store.js';
import { StorageHealth, storageErrorCode, type StorageEvent } from './storage-health.js';

const sqlite = (code: string) => Object.assign(new Error('database or disk is full'), { code });

describe('storage health', () => {
  it('knows a storage failure from any other error, also as a cause', () => {
    expect(storageErrorCode(sqlite('SQLITE_FULL'))).toBe('SQLITE_FULL');
    expect(storageErrorCode(sqlite('SQLITE_READONLY_DBMOVED'))).toBe('SQLITE_READONLY_DBMOVED');
    expect(storageErrorCode(sqlite('SQLITE_IOERR_WRITE'))).toBe('SQLITE_IOERR_WRITE');
    expect(storageErrorCode(new Error('wrapped', { cause: sqlite('SQLITE_FULL') }))).toBe('SQLITE_FULL');
    expect(storageErrorCode(Object.assign(new Error('x'), { code: 'EROFS' }))).toBe('EROFS');
    expect(storageErrorCode(sqlite('SQLITE_CONSTRAINT_UNIQUE'))).toBeNull();
    expect(storageErrorCode(new TypeError('a bug'))).toBeNull();
  });

  it('says unavailable once however many writes fail, and available again only when told', () => {
    const h = new StorageHealth();
    const events: StorageEvent[] = [];
    h.onChange((e) => events.push(e));
    expect(h.failed(new TypeError('a bug'))).toBe(false);
    expect(h.available).toBe(true);
    for (let i = 0; i < 50; i++) expect(h.failed(sqlite('SQLITE_FULL'), 1000 + i)).toBe(true);
    expect(h.available).toBe(false);
    expect(h.reason).toBe('SQLITE_FULL');
    h.recovered(4000);
    h.recovered(5000);
    expect(events).toEqual([
      { kind: 'unavailable', code: 'SQLITE_FULL', err: expect.any(Error) },
      { kind: 'available', unavailableMs: 3000, refusedWrites: 50 },
    ]);
  });

  it('a store transaction that fails for the storage throws the coded 503 and marks it; a probe write restores it', () => {
    const store = openStore({ dataDir: ':memory:', silentAfterMs: 60_000 });
    try {
      let thrown: unknown;
      try {
        store.transaction(() => {
          throw sqlite('SQLITE_FULL');
        });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(VigilError);
      expect(thrown).toMatchObject({ code: 'VIGIL_ERR_STORAGE_UNAVAILABLE', statusCode: 503 });
      expect(store.health.available).toBe(false);
      // Any other failure stays what it was.
      expect(() => store.transaction(() => { throw new TypeError('a bug'); })).toThrow(TypeError);
      expect(store.probeWrite()).toBe(true);
      expect(store.health.available).toBe(true);
    } finally {
      store.close();
    }
  });
});
