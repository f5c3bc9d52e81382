import zlib from 'node:zlib';
import { isAgentMessageType, type AgentMessageType } from '@vigil/shared/agent';

/**
 * One journal record is one line: `<crc32 of the JSON, 8 lowercase hex digits>\t<envelope JSON>\n`.
 * JSON.stringify never emits a raw newline, so `\n` always ends a record; the CRC catches torn
 * writes and bit rot. Only the JSON between the tab and the newline is ever sent.
 */

const CRC_HEX_LENGTH = 8;
const TAB = 0x09;
const NEWLINE = 0x0a;
/** Bytes a record adds around its JSON: the CRC, the tab and the newline. */
export const RECORD_OVERHEAD = CRC_HEX_LENGTH + 2;

/** Encodes the envelope JSON as one journal record. */
export function encodeRecord(json: string): Buffer {
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  const out = Buffer.allocUnsafe(jsonBytes + RECORD_OVERHEAD);
  out.write(json, CRC_HEX_LENGTH + 1, 'utf8');
  const crc = zlib.crc32(out.subarray(CRC_HEX_LENGTH + 1, CRC_HEX_LENGTH + 1 + jsonBytes));
  out.write(crc.toString(16).padStart(CRC_HEX_LENGTH, '0'), 0, 'latin1');
  out[CRC_HEX_LENGTH] = TAB;
  out[out.length - 1] = NEWLINE;
  return out;
}

/** What a valid record says about itself; the index needs no more. */
export interface RecordHeader {
  seq: number;
  type: AgentMessageType;
}

export type DecodeResult = ({ ok: true } & RecordHeader) | { ok: false; reason: string };

/** The JSON of the record at `buf[start, end)` (`end` just past its newline), if its CRC holds. */
export function recordJson(buf: Buffer, start: number, end: number): string | null {
  if (end - start < RECORD_OVERHEAD + 2 || buf[start + CRC_HEX_LENGTH] !== TAB || buf[end - 1] !== NEWLINE) return null;
  const hex = buf.toString('latin1', start, start + CRC_HEX_LENGTH);
  if (!/^[0-9a-f]{8}$/.test(hex)) return null;
  const json = buf.subarray(start + CRC_HEX_LENGTH + 1, end - 1);
  if (zlib.crc32(json) !== Number.parseInt(hex, 16)) return null;
  return json.toString('utf8');
}

/**
 * Checks the record at `buf[start, end)` (`end` just past its newline): frame, CRC, JSON, and an
 * envelope with a positive integer seq and a known agent message type.
 */
export function decodeRecord(buf: Buffer, start: number, end: number): DecodeResult {
  const json = recordJson(buf, start, end);
  if (json === null) return { ok: false, reason: 'bad frame or CRC' };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'invalid JSON' };
  }
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'not an envelope' };
  const { seq, type, id } = value as { seq?: unknown; type?: unknown; id?: unknown };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return { ok: false, reason: 'bad seq' };
  if (typeof type !== 'string' || !isAgentMessageType(type)) return { ok: false, reason: 'unknown type' };
  if (typeof id !== 'string') return { ok: false, reason: 'missing id' };
  return { ok: true, seq, type };
}
