import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditHead, AuditLogEntry, ErrorResponse, listEnvelope } from '@vigil/shared';
import { ADMIN_TOKEN, startHarness, type Harness } from '../test-support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h.close());

const auth = (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });
const T0 = Date.parse('2025-03-01T09:00:00Z');

describe('GET /api/v1/audit-log', () => {
  it('is for admins and auditors only', async () => {
    const auditor = h.store.credentials.createApiToken('auditor', 'auditor').token;
    const analyst = h.store.credentials.createApiToken('analyst', 'analyst').token;
    expect((await h.app.inject({ url: '/api/v1/audit-log', headers: auth(auditor) })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/api/v1/audit-log/head', headers: auth(auditor) })).statusCode).toBe(200);
    for (const url of ['/api/v1/audit-log', '/api/v1/audit-log/head']) {
      const res = await h.app.inject({ url, headers: auth(analyst) });
      expect(res.statusCode).toBe(403);
      expect(ErrorResponse.parse(res.json()).error.code).toBe('VIGIL_ERR_FORBIDDEN');
      expect((await h.app.inject({ url })).statusCode).toBe(401);
    }
  });

  it('pages newest first and filters by action and since', async () => {
    // The first run already recorded the admin token and the admin user it created.
    expect(h.store.audit.head()?.seq).toBe(2);
    for (let i = 1; i <= 12; i++) {
      h.store.audit.append({ actor: 'user:alice', action: i % 2 ? 'login' : 'export', subject: `s${i}`, details: { i } }, T0 + i * 60_000);
    }
    const envelope = listEnvelope(AuditLogEntry);
    const seqs: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await h.app.inject({ url: `/api/v1/audit-log?limit=5${cursor ? `&cursor=${cursor}` : ''}`, headers: auth() });
      expect(res.statusCode).toBe(200);
      const page = envelope.parse(res.json());
      seqs.push(...page.items.map((e) => e.seq));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seqs).toEqual([14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);

    const since = new Date(T0 + 9 * 60_000).toISOString();
    const filtered = envelope.parse((await h.app.inject({ url: `/api/v1/audit-log?action=export&since=${since}`, headers: auth() })).json());
    expect(filtered.items.map((e) => [e.seq, e.action, e.subject, e.details])).toEqual([
      [14, 'export', 's12', { i: 12 }],
      [12, 'export', 's10', { i: 10 }],
    ]);
  });

  it('answers an unknown action or a bad cursor with VIGIL_ERR_VALIDATION', async () => {
    for (const q of ['action=alert.open', 'since=yesterday', 'cursor=bm9wZQ']) {
      const res = await h.app.inject({ url: `/api/v1/audit-log?${q}`, headers: auth() });
      expect(res.statusCode, q).toBe(400);
      expect(ErrorResponse.parse(res.json()).error.code).toBe('VIGIL_ERR_VALIDATION');
    }
  });
});

describe('GET /api/v1/audit-log/head', () => {
  it('is the genesis while the log is empty, then the latest entry', async () => {
    h.store.db.exec('DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log'); // forget the first run's entries
    const empty = AuditHead.parse((await h.app.inject({ url: '/api/v1/audit-log/head', headers: auth() })).json());
    expect(empty).toEqual({ seq: 0, hash: '0'.repeat(64), at: null });
    h.store.audit.append({ actor: 'cli', action: 'token.created' }, T0);
    const { seq, hash } = h.store.audit.append({ actor: 'user:alice', action: 'login' }, T0 + 1);
    const head = AuditHead.parse((await h.app.inject({ url: '/api/v1/audit-log/head', headers: auth() })).json());
    expect(head).toEqual({ seq, hash, at: new Date(T0 + 1).toISOString() });
    expect(seq).toBe(2);
  });
});
