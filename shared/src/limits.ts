/** Caps on untrusted input, shared so agent and collector agree on what fits. */
export const LIMITS = {
  /** Default cap on one WebSocket frame from an agent, bytes. */
  frameBytes: 2 * 1024 * 1024,
  /** Hostnames (RFC 1035 allows 253 characters). */
  hostname: 255,
  /** Short labels: OS names, versions, architectures, user names. */
  label: 128,
  /** Free text from devices and packages (product strings, descriptions). */
  text: 1024,
  /** Reasons and messages. */
  message: 2048,
  /** Items in one list inside a message (software titles, devices, sessions). */
  listItems: 20_000,
  /** Addresses on one host. */
  addresses: 64,
  /** Logged-in users reported in one snapshot. */
  users: 256,
  /** Groups one host may belong to. */
  groups: 64,
  /** Page size of REST lists. */
  pageMax: 500,
  pageDefault: 50,
} as const;
