import { describe, expect, it } from 'vitest';
import { NotificationPayload } from '@vigil/shared';
import { eventName, formatJson } from './format-json.js';
import { cleanText, formatText, slackEscape } from './format-text.js';
import { alertNotice, usbAlert } from './test-support/notices.js';

const alertPayload = (notice = alertNotice()): NotificationPayload => ({ type: 'alert', ...notice });

describe('formatText', () => {
  it('writes one readable line for an alert', () => {
    expect(formatText(alertPayload(), 'plain')).toBe(
      '[HIGH] usb.unauthorised opened on ws-0042: usb:0781:5567:4C530001230101117264 — SanDisk Cruzer Blade (count 2)',
    );
  });

  it('says who resolved it and how, and fleet-wide alerts have no host', () => {
    const resolved = alertNotice({ action: 'resolved', actor: 'alice' }, { status: 'resolved', resolution: 'false_positive' });
    expect(formatText(alertPayload(resolved), 'plain')).toBe(
      '[HIGH] usb.unauthorised resolved (false_positive) by alice on ws-0042: usb:0781:5567:4C530001230101117264 — SanDisk Cruzer Blade (count 2)',
    );
    const fleet = alertNotice(
      {},
      { rule: 'licence.over_deployed', hostId: null, hostname: null, subject: 'Microsoft Office', severity: 'medium', details: { seats: 10, installs: 12, overBy: 2, hosts: [] } },
    );
    expect(formatText(alertPayload(fleet), 'plain')).toBe('[MEDIUM] licence.over_deployed opened fleet-wide: Microsoft Office (count 2)');
  });

  it('sets Slack fields as escaped code spans', () => {
    expect(formatText(alertPayload(), 'slack')).toBe(
      '[HIGH] usb.unauthorised opened on `ws-0042`: `usb:0781:5567:4C530001230101117264` — `SanDisk Cruzer Blade` (count 2)',
    );
  });

  it('keeps hostile endpoint text on one line, without controls, and unable to mention, link or break out in Slack', () => {
    const hostile = alertNotice(
      {},
      {
        hostname: 'ws-0042\r\n[CRITICAL] all clear\u2028',
        subject: 'usb:dead:beef:\u202Egnp.exe\u200B',
        details: { manufacturer: '<!channel> & <https://evil.example/|click here>', product: '`code` \x1b[31mred\x1b[0m\x00' },
      },
    );
    const slack = formatText(alertPayload(hostile), 'slack');
    expect(slack).not.toMatch(/[\p{Cc}\u2028\u2029\u202E\u200B]/u);
    expect(slack).not.toContain('<');
    expect(slack).not.toContain('>');
    expect(slack).toContain('&lt;!channel&gt; &amp; &lt;https://evil.example/|click here&gt;');
    // Each untrusted field is exactly one code span: a backtick inside cannot close it early.
    expect(slack.split('`').length - 1).toBe(6);
    expect(slack).toContain("`&lt;!channel&gt; &amp; &lt;https://evil.example/|click here&gt; 'code' [31mred [0m`");

    const plain = formatText(alertPayload(hostile), 'plain');
    expect(plain).toBe(
      "[HIGH] usb.unauthorised opened on ws-0042 [CRITICAL] all clear: usb:dead:beef:gnp.exe — <!channel> & <https://evil.example/|click here> `code` [31mred [0m (count 2)",
    );
  });

  it('caps untrusted fields', () => {
    const long = alertNotice({}, { hostname: 'h'.repeat(5000), subject: 's'.repeat(5000), details: { product: 'p'.repeat(5000) } });
    const line = formatText(alertPayload(long), 'slack');
    expect(line.length).toBeLessThan(600);
    expect(line).toContain(`\`${'h'.repeat(63)}…\``);
  });

  it('describes the audit head and test messages', () => {
    expect(formatText({ type: 'audit.head', seq: 812, hash: 'ab'.repeat(32), at: '2025-03-05T00:00:00.000Z' }, 'plain')).toBe(
      `Vigil audit log head: seq 812, sha256 ${'ab'.repeat(32)}, at 2025-03-05T00:00:00.000Z`,
    );
    expect(formatText({ type: 'test', at: '2025-03-05T00:00:00.000Z', by: '<@U123>' }, 'slack')).toBe(
      'Vigil test notification, sent by `&lt;@U123&gt;` at `2025-03-05T00:00:00.000Z`',
    );
  });
});

describe('cleanText and slackEscape', () => {
  it('does not split a surrogate pair when capping', () => {
    expect(cleanText('😀😀😀', 2)).toBe('😀…');
  });
  it('escapes exactly the three characters Slack reserves', () => {
    expect(slackEscape('a & b < c > d "e" \'f\'')).toBe('a &amp; b &lt; c &gt; d "e" \'f\'');
  });
});

describe('formatJson', () => {
  it('is the documented payload, which the shared schema parses back', () => {
    const body = JSON.parse(formatJson(alertPayload(alertNotice({ note: 'seen on the CCTV' }))));
    expect(Object.keys(body)).toEqual(['type', 'action', 'cursor', 'actor', 'note', 'alert']);
    expect(body).toMatchObject({ type: 'alert', action: 'opened', cursor: '17', actor: 'engine', note: 'seen on the CCTV' });
    expect(body.alert).toEqual(usbAlert());
    expect(NotificationPayload.parse(body)).toEqual(body);
    expect(JSON.parse(formatJson({ type: 'audit.head', seq: 3, hash: 'f'.repeat(64), at: '2025-03-05T00:00:00.000Z' }))).toEqual({
      type: 'audit.head',
      seq: 3,
      hash: 'f'.repeat(64),
      at: '2025-03-05T00:00:00.000Z',
    });
  });

  it('names the event for the X-Vigil-Event header', () => {
    expect(eventName(alertPayload(alertNotice({ action: 'escalated' })))).toBe('alert.escalated');
    expect(eventName({ type: 'audit.head', seq: 1, hash: 'x', at: 'y' })).toBe('audit.head');
  });
});
