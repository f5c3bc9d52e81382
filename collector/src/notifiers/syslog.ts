import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { SYSLOG_FACILITIES, type NotificationPayload, type Severity, type SyslogConfig } from '@vigil/shared';
import { cleanText, formatText } from './format-text.js';
import type { OutgoingDelivery, Transport } from './types.js';

/**
 * RFC 5424 syslog for SIEMs: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`, over UDP
 * (one datagram per message, RFC 5426) or TCP (RFC 6587 octet counting: `LEN SP MSG`, one
 * connection kept per target).
 */

/** Alert severity → syslog severity: low→notice, medium→warning, high→error, critical→critical. */
export const SYSLOG_SEVERITY: Record<Severity, number> = { low: 5, medium: 4, high: 3, critical: 2 };
const NOTICE = 5;
const INFORMATIONAL = 6;

/** SD-ID of Vigil's structured data. 32473 is the private enterprise number RFC 5612 sets aside for documentation. */
export const SD_ID = 'vigil@32473';

/** A datagram fits one unfragmented IPv4 packet on almost every path, and RFC 5426 receivers must take 480+ bytes; 2048 is the common SIEM default. */
export const UDP_MAX_BYTES = 2048;
export const TCP_MAX_BYTES = 8192;

const SD_VALUE_CHARS = 256;

export interface SyslogFields {
  facility: number;
  severity: number;
  /** ISO 8601; anything unparsable becomes the nil value. */
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** Parameters of the one SD-ELEMENT, in order; empty: `-`. */
  sd: [string, string][];
  msg: string;
}

/** A header field: printable US-ASCII without spaces, capped; empty is the nil value `-`. */
export function headerField(s: string, max: number): string {
  const clean = s.replace(/[^!-~]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** PARAM-VALUE escaping (RFC 5424 §6.3.3): `"`, `\` and `]` get a backslash. The value is cleaned and capped first. */
export function sdEscape(value: string): string {
  return cleanText(value, SD_VALUE_CHARS).replace(/["\\\]]/g, (c) => `\\${c}`);
}

function timestamp(s: string): string {
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? '-' : new Date(ms).toISOString();
}

/** Cut a string to at most `maxBytes` of UTF-8 without splitting a character, marking a cut with `…`. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  const budget = maxBytes - 3; // '…' is 3 bytes
  let used = 0;
  let out = '';
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > budget) break;
    used += n;
    out += ch;
  }
  return budget > 0 ? `${out}…` : '';
}

/** One RFC 5424 message of at most `maxBytes` bytes: MSG is cut to fit (then SD is dropped if even that is not enough). */
export function formatSyslog(f: SyslogFields, maxBytes: number): string {
  const pri = f.facility * 8 + f.severity;
  const header = `<${pri}>1 ${timestamp(f.timestamp)} ${headerField(f.hostname, 255)} ${headerField(f.appName, 48)} ${headerField(f.procId, 128)} ${headerField(f.msgId, 32)}`;
  const params = f.sd.map(([name, value]) => ` ${headerField(name.replace(/[=\]"]/g, ''), 32)}="${sdEscape(value)}"`).join('');
  let sd = f.sd.length ? `[${SD_ID}${params}]` : '-';
  const msg = cleanText(f.msg, 4096);
  let budget = maxBytes - Buffer.byteLength(`${header} ${sd} `, 'utf8');
  if (budget < 64) {
    sd = '-';
    budget = maxBytes - Buffer.byteLength(`${header} ${sd} `, 'utf8');
  }
  const body = truncateUtf8(msg, Math.max(0, budget));
  return body ? `${header} ${sd} ${body}` : `${header} ${sd}`;
}

/** RFC 6587 octet-counting frame: `MSG-LEN SP SYSLOG-MSG`, the length in bytes. */
export function octetFrame(message: string): Buffer {
  const msg = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${msg.length} `, 'ascii'), msg]);
}

const facilityNumber = (f: SyslogConfig['facility']) => (typeof f === 'number' ? f : SYSLOG_FACILITIES[f]);

/** The syslog fields of one notification for one target. */
export function syslogFields(payload: NotificationPayload, config: SyslogConfig, origin: { hostname: string; procId: string }): SyslogFields {
  const base = { facility: facilityNumber(config.facility), hostname: origin.hostname, appName: config.appName, procId: origin.procId, msg: formatText(payload, 'plain') };
  switch (payload.type) {
    case 'alert': {
      const a = payload.alert;
      const sd: [string, string][] = [
        ['action', payload.action],
        ['rule', a.rule],
        ['severity', a.severity],
        ['status', a.status],
        ['alertId', a.id],
      ];
      if (a.hostId !== null) sd.push(['hostId', a.hostId]);
      if (a.hostname !== null) sd.push(['host', a.hostname]);
      sd.push(['subject', a.subject], ['count', String(a.count)], ['cursor', payload.cursor]);
      if (a.resolution !== null) sd.push(['resolution', a.resolution]);
      sd.push(['actor', payload.actor]);
      return { ...base, severity: SYSLOG_SEVERITY[a.severity], timestamp: a.updatedAt, msgId: 'alert', sd };
    }
    case 'audit.head':
      return { ...base, severity: NOTICE, timestamp: payload.at, msgId: 'audit-head', sd: [['seq', String(payload.seq)], ['hash', payload.hash]] };
    case 'test':
      return { ...base, severity: INFORMATIONAL, timestamp: payload.at, msgId: 'test', sd: [['by', payload.by]] };
  }
}

export interface SyslogTransportOptions {
  /** HOSTNAME of every message: this collector (default `os.hostname()`). */
  hostname?: string;
  procId?: string;
}

interface TcpConnection {
  endpoint: string;
  socket: net.Socket;
  ready: Promise<void>;
}

/** A promise that also rejects (with the signal's reason, after running `onAbort`) when `signal` aborts. */
function abortable<T>(signal: AbortSignal, start: (resolve: (v: T) => void, reject: (e: unknown) => void) => void, onAbort: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      onAbort();
      reject(signal.reason);
      return;
    }
    const abort = () => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    start(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}

/**
 * Syslog targets. TCP keeps one connection per target, dropped on any error or close and opened
 * again by the next send. A written frame counts as delivered once the kernel has it: TCP syslog
 * has no acknowledgement, so a message written just as the receiver dies can be lost (RFC 6587).
 */
export function createSyslogTransport(opts: SyslogTransportOptions = {}): Transport {
  const origin = { hostname: opts.hostname ?? os.hostname(), procId: opts.procId ?? String(process.pid) };
  const tcp = new Map<string, TcpConnection>();
  const udp = new Map<'udp4' | 'udp6', dgram.Socket>();

  function udpSocket(host: string): dgram.Socket {
    const type = net.isIPv6(host) ? 'udp6' : 'udp4';
    let s = udp.get(type);
    if (!s) {
      s = dgram.createSocket(type);
      const socket = s;
      socket.on('error', () => {
        udp.delete(type);
        socket.close();
      });
      s.unref();
      udp.set(type, s);
    }
    return s;
  }

  function tcpConnection(targetId: string, host: string, port: number): TcpConnection {
    const endpoint = `${host}:${port}`;
    const existing = tcp.get(targetId);
    if (existing && existing.endpoint === endpoint && !existing.socket.destroyed) return existing;
    existing?.socket.destroy();
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const conn: TcpConnection = {
      endpoint,
      socket,
      ready: new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      }),
    };
    conn.ready.catch(() => undefined);
    const drop = () => {
      if (tcp.get(targetId) === conn) tcp.delete(targetId);
    };
    socket.on('error', drop);
    socket.on('close', drop);
    // Receivers send nothing; read and ignore anything so the socket never stalls, and close when they do.
    socket.on('data', () => undefined);
    socket.on('end', () => {
      drop();
      socket.end();
    });
    socket.unref();
    tcp.set(targetId, conn);
    return conn;
  }

  return {
    async send(d: OutgoingDelivery, signal: AbortSignal): Promise<void> {
      const t = d.target;
      if (t.kind !== 'syslog') throw new Error(`the syslog transport cannot send to a ${t.kind} target`);
      const { host, port, transport } = t.config;
      const fields = syslogFields(d.payload, t.config, origin);
      if (transport === 'udp') {
        const datagram = Buffer.from(formatSyslog(fields, UDP_MAX_BYTES), 'utf8');
        const socket = udpSocket(host);
        return abortable<void>(
          signal,
          (resolve, reject) => socket.send(datagram, port, host, (err) => (err ? reject(err) : resolve())),
          () => undefined,
        );
      }
      const frame = octetFrame(formatSyslog(fields, TCP_MAX_BYTES));
      const conn = tcpConnection(t.id, host, port);
      const kill = () => conn.socket.destroy();
      await abortable<void>(signal, (resolve, reject) => conn.ready.then(resolve, reject), kill);
      await abortable<void>(signal, (resolve, reject) => conn.socket.write(frame, (err) => (err ? reject(err) : resolve())), kill);
    },
    close() {
      for (const c of tcp.values()) c.socket.destroy();
      tcp.clear();
      for (const s of udp.values()) s.close();
      udp.clear();
    },
  };
}
