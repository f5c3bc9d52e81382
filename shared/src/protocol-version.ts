/** Version of the agent ⇄ collector wire protocol, carried in every envelope (`v`) and in `hello`. */
export const PROTOCOL_VERSION = 1;
/** Oldest agent protocol version a collector of this build still accepts. */
export const MIN_PROTOCOL_VERSION = 1;

export function isSupportedProtocolVersion(v: number): boolean {
  return Number.isInteger(v) && v >= MIN_PROTOCOL_VERSION && v <= PROTOCOL_VERSION;
}
