import { VigilError } from '@vigil/shared';

/** Opaque keyset cursors: base64url of a JSON array of the sort key of the last item. */
export function encodeCursor(key: (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): [string, string] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 2 && key.every((k) => typeof k === 'string')) return key as [string, string];
  } catch {
    // fall through
  }
  throw new VigilError('VIGIL_ERR_VALIDATION', 'cursor is not valid');
}

/** A keyset cursor of `n` strings or numbers. */
export function decodeCursorKey(cursor: string, n: number): (string | number)[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === n && key.every((k) => typeof k === 'string' || typeof k === 'number')) return key as (string | number)[];
  } catch {
    // fall through
  }
  throw new VigilError('VIGIL_ERR_VALIDATION', 'cursor is not valid');
}
