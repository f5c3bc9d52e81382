import { z } from 'zod';
import { LIMITS } from './limits.js';

/**
 * Untrusted text from a device, a package or a user: capped in length. It is never interpreted
 * here; escaping happens where it is output (HTML, CSV, logs).
 */
export const text = (max: number = LIMITS.text) => z.string().max(max);
export const label = () => z.string().max(LIMITS.label);
/** Epoch milliseconds (what agents put in `ts`). */
export const epochMs = () => z.number().int().min(0).max(8_640_000_000_000_000);
/** ISO 8601 UTC timestamp string, as every REST field is. */
export const isoTime = () => z.iso.datetime({ offset: false });
/** 4-digit lowercase hex USB id, e.g. `0781`. */
export const hex4 = () => z.string().regex(/^[0-9a-f]{4}$/, 'must be 4 lowercase hex digits');
/** 2-digit lowercase hex USB class code, e.g. `08`. */
export const hex2 = () => z.string().regex(/^[0-9a-f]{2}$/, 'must be 2 lowercase hex digits');
