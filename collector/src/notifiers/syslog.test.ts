import { describe, expect, it } from 'vitest';
import { SyslogConfig, type NotificationPayload } from '@vigil/shared';
import { formatSyslog, headerField, octetFrame, sdEscape, syslogFields, truncateUtf8, UDP_MAX_BYTES, type SyslogFields } from './syslog.js';
import { alertNotice } from './test-support/notices.js';
import { parseRfc5424, splitOctetFrames } from './test-support/syslog-parse.js';

const config = SyslogConfig.parse({ host: '127.0.0.1', port: 5514, transport: 'udp' });
const origin = { hostname: 'collector-1', procId: '4242' };
const alertPayload = (...args: Parameters<typeof alertNotice>): NotificationPayload => ({ type: 'alert', ...alertNotice(...args) });

describe('RFC 5424 formatting', () => {
  it('writes the header, Vigil structured data and the readable line', () => {
    const line = formatSyslog(syslogFields(alertPayload(), config, origin), UDP_MAX_BYTES);
    expect(line).toBe(
      '<131>1 2025-03-04T09:41:37.981Z collector-1 vigil 4242 alert ' +
        '[vigil@32473 action="opened" rule="usb.unauthorised" severity="high" status="open" alertId="0190f5a2-7c1e-7b3a-9d4e-2f6a8b1c3d5e" ' +
        'hostId="0190f5a0-1111-7222-8333-444455556666" host="ws-0042" subject="usb:0781:5567:4C530001230101117264" count="2" cursor="17" actor="engine"] ' +
        '[HIGH] usb.unauthorised opened on ws-0042: usb:0781:5567:4C530001230101117264 — SanDisk Cruzer Blade (count 2)',
    );
  });

  it('maps severities and facilities to PRI', () => {
    const pri = (severity: 'low' | 'medium' | 'high' | 'critical', facility: SyslogConfig['facility'] = 'local0') =>
      parseRfc5424(formatSyslog(syslogFields(alertPayload({}, { severity }), { ...config, facility }, origin), UDP_MAX_BYTES)).pri;
    // local0 = 16: PRI = 16 * 8 + severity (notice 5, warning 4, error 3, critical 2).
    expect([pri('low'), pri('medium'), pri('high'), pri('critical')]).toEqual([133, 132, 131, 130]);
    expect(pri('critical', 'auth')).toBe(4 * 8 + 2);
    expect(pri('low', 23)).toBe(23 * 8 + 5);
    const head = parseRfc5424(formatSyslog(syslogFields({ type: 'audit.head', seq: 9, hash: 'ab'.repeat(32), at: '2025-03-05T00:00:00.000Z' }, config, origin), UDP_MAX_BYTES));
    expect(head).toMatchObject({ pri: 16 * 8 + 5, msgId: 'audit-head', sd: { id: 'vigil@32473', params: { seq: '9', hash: 'ab'.repeat(32) } } });
  });

  it('escapes ", \\ and ] in parameter values, so hostile text cannot end the structured data early', () => {
    expect(sdEscape('a"b\\c]d')).toBe('a\\"b\\\\c\\]d');
    const hostile = alertPayload({}, { hostname: 'ws"] [evil@1 x="y', subject: 'usb:\\"]\n<13>1 - - - - - forged' });
    const parsed = parseRfc5424(formatSyslog(syslogFields(hostile, config, origin), UDP_MAX_BYTES));
    expect(parsed.sd?.params.host).toBe('ws"] [evil@1 x="y');
    expect(parsed.sd?.params.subject).toBe('usb:\\"] <13>1 - - - - - forged');
    expect(Object.keys(parsed.sd?.params ?? {})).not.toContain('x');
    expect(parsed.msg).not.toContain('\n');
  });

  it('keeps header fields printable ASCII without spaces, with - for nil', () => {
    expect(headerField('my host\tname\u00e9', 255)).toBe('myhostname');
    expect(headerField(' \u00e9 ', 255)).toBe('-');
    const f: SyslogFields = { ...syslogFields(alertPayload(), config, origin), hostname: 'bad host', appName: '', timestamp: 'not a time', sd: [] };
    const parsed = parseRfc5424(formatSyslog(f, UDP_MAX_BYTES));
    expect(parsed).toMatchObject({ hostname: 'badhost', appName: '-', timestamp: '-', sd: null });
  });

  it('cuts MSG to fit one datagram without splitting a character', () => {
    const big = alertPayload({}, { details: { product: 'é'.repeat(3000) }, subject: 'ü'.repeat(3000) });
    const line = formatSyslog({ ...syslogFields(big, config, origin), msg: `${'ß'.repeat(5000)}` }, UDP_MAX_BYTES);
    const bytes = Buffer.from(line, 'utf8');
    expect(bytes.length).toBeLessThanOrEqual(UDP_MAX_BYTES);
    expect(bytes.length).toBeGreaterThan(UDP_MAX_BYTES - 4);
    expect(bytes.toString('utf8')).not.toContain('\uFFFD');
    const parsed = parseRfc5424(line);
    expect(parsed.msg?.endsWith('…')).toBe(true);
    expect(parsed.sd?.params.subject).toBe(`${'ü'.repeat(255)}…`);
    expect(truncateUtf8('aé', 2)).toBe('');
    expect(truncateUtf8('abcdé', 6)).toBe('abcdé');
    expect(truncateUtf8('abcdé', 5)).toBe('ab…');
  });
});

describe('RFC 6587 octet counting', () => {
  it('prefixes each message with its length in bytes, not characters', () => {
    expect(octetFrame('<13>1 - - - - - - é').toString('utf8')).toBe('20 <13>1 - - - - - - é');
    const stream = Buffer.concat([octetFrame('first message'), octetFrame('second — ü'), octetFrame('thi')]);
    const { frames, rest } = splitOctetFrames(Buffer.concat([stream, Buffer.from('12 partia')]));
    expect(frames).toEqual(['first message', 'second — ü', 'thi']);
    expect(rest.toString()).toBe('12 partia');
  });
});
