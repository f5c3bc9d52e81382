import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ADMIN_TOKEN, hostFacts, startHarness, type Harness } from '../test-support/harness.js';
import { arbitraryOf, mutate, mutationArb } from '../test-support/schema-arbitrary.js';
import { fuzzRuns, fuzzSeed, printFuzzTally, recordFuzz } from './fuzz-settings.js';

// The REST API walked from the collector's own route table, so a route added later is covered
// without touching this file: every route refuses missing, forged and under-privileged
// credentials; every body and query is fuzzed from its shared zod schema (and mutations of it),
// and the answer is never a 5xx and always a coded error when refused.

let h: Harness;
let auditor: string;
let analyst: string;
let hostId: string;

/** Routes anyone may call, by design: health, the dashboard's files, enrolment (its own secret), logging in and out. */
const PUBLIC = new Set(['GET /healthz', 'GET /readyz', 'GET /', 'GET /assets/:file', 'POST /api/v1/enrol', 'POST /api/v1/session', 'GET /api/v1/session', 'DELETE /api/v1/session']);
const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

beforeAll(async () => {
  h = await startHarness();
  auditor = h.store.credentials.createApiToken('fuzz-auditor', 'auditor').token;
  analyst = h.store.credentials.createApiToken('fuzz-analyst', 'analyst').token;
  hostId = (await h.enrol(hostFacts({ hostname: 'rest-fuzz' }))).hostId;
});
afterAll(async () => {
  printFuzzTally('REST fuzzing');
  await h?.close();
});

const routes = () => h.app.routeTable.filter((r) => r.method !== 'HEAD' && !r.websocket && r.url.startsWith('/'));
const key = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

/** The route's URL with its parameters filled: a real host id where one fits, else a plausible id. */
function fill(url: string, values: Record<string, string> = {}): string {
  return url.replace(/:([A-Za-z]+)/g, (_m, name: string) => encode(values[name] ?? (/host/i.test(name) ? hostId : name === 'file' ? 'app.js' : '00000000-0000-4000-8000-000000000000')));
}

/** Percent-encoded; a lone surrogate goes as bytes a hostile client would send (invalid UTF-8). */
function encode(v: string): string {
  let out = '';
  // By code point: a lone surrogate comes alone, a pair as one character.
  for (const ch of v) {
    const c = ch.codePointAt(0)!;
    out += c >= 0xd800 && c <= 0xdfff ? '%ED%A0%80' : encodeURIComponent(ch);
  }
  return out;
}

function expectCoded(res: { statusCode: number; body: string }, what: string): void {
  expect(res.statusCode, what).toBeLessThan(500);
  if (res.statusCode >= 400) expect((JSON.parse(res.body) as { error?: { code?: string } }).error?.code ?? '', what).toMatch(/^VIGIL_ERR_[A-Z_]+$/);
}

describe('every route checks who is calling', () => {
  it('refuses a missing or forged credential with a coded 401, on every route that is not public by design', async () => {
    let checked = 0;
    for (const r of routes()) {
      if (PUBLIC.has(key(r))) continue;
      for (const headers of [{}, { authorization: 'Bearer vgt_forged-0000000000000000000000' }, { authorization: 'Basic YWRtaW46YWRtaW4=' }, { cookie: 'vigil_session=forged' }]) {
        const res = await h.app.inject({ method: r.method as 'GET', url: fill(r.url), headers, ...(CHANGES.has(r.method) ? { payload: {} } : {}) });
        expect(res.statusCode, `${key(r)} with ${JSON.stringify(headers)}`).toBe(401);
        expect(res.json().error.code).toMatch(/^VIGIL_ERR_(UNAUTHENTICATED|TOKEN_INVALID|SESSION_EXPIRED)$/);
        checked++;
      }
    }
    recordFuzz('routes refusing missing/forged credentials', { requests: checked });
    expect(checked).toBeGreaterThan(40);
  });

  it('lets an auditor change nothing: every state-changing route answers 403 before looking at the body', async () => {
    let checked = 0;
    for (const r of routes()) {
      if (PUBLIC.has(key(r)) || !CHANGES.has(r.method)) continue;
      // Auditors may act on audits (their own workflow): anything else refused.
      if (r.url.startsWith('/api/v1/audits')) continue;
      const res = await h.app.inject({ method: r.method as 'POST', url: fill(r.url), headers: { authorization: `Bearer ${auditor}` }, payload: {} });
      expect(res.statusCode, key(r)).toBe(403);
      expect(res.json().error.code).toBe('VIGIL_ERR_FORBIDDEN');
      checked++;
    }
    recordFuzz('state-changing routes refusing an auditor', { routes: checked });
    expect(checked).toBeGreaterThan(10);
  });

  it('keeps policy, users, tokens and notification targets from analysts', async () => {
    for (const r of routes()) {
      if (!CHANGES.has(r.method) || !/^\/api\/v1\/(policy|users|tokens|notifications)/.test(r.url)) continue;
      const res = await h.app.inject({ method: r.method as 'POST', url: fill(r.url), headers: { authorization: `Bearer ${analyst}` }, payload: {} });
      expect(res.statusCode, key(r)).toBe(403);
    }
  });
});

describe('fuzzing REST bodies and queries (fast-check, from the shared schemas)', () => {
  it('answers every generated or mutated body with a 2xx or a coded 4xx, never a 5xx', async () => {
    const targets = routes().filter((r) => CHANGES.has(r.method) && r.schema.body && key(r) !== 'POST /api/v1/session');
    expect(targets.length).toBeGreaterThan(5);
    for (const r of targets) {
      const bodyArb = arbitraryOf(r.schema.body as z.ZodType, { maxItems: 2 });
      const paramsArb = r.schema.params ? (arbitraryOf(r.schema.params as z.ZodType) as fc.Arbitrary<Record<string, string>>) : fc.constant(undefined);
      let ok = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(bodyArb, fc.option(fc.array(mutationArb, { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 2 }), paramsArb, fc.boolean(), async (body, mutations, params, realIds) => {
          const payload = mutations ? mutate(body, mutations) : body;
          const url = fill(r.url, realIds ? {} : params);
          const res = await h.app.inject({ method: r.method as 'POST', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
          expectCoded(res, `${key(r)} ${JSON.stringify(payload).slice(0, 300)}`);
          if (res.statusCode < 400) ok++;
          else refused++;
        }),
        { numRuns: fuzzRuns(40), seed: fuzzSeed(), endOnFailure: true },
      );
      recordFuzz(key(r), { ok, refused });
    }
  }, 120_000);

  it('answers bodies that are not JSON, the wrong media type, and oversized ones with coded errors', async () => {
    const targets = routes().filter((r) => CHANGES.has(r.method) && r.schema.body);
    let n = 0;
    for (const r of targets) {
      for (const [type, payload] of [
        ['application/json', '{"a":'],
        ['application/json', '['.repeat(50_000)],
        ['text/xml', '<x/>'],
        ['application/json', `"${'x'.repeat(2 * 1024 * 1024)}"`],
      ] as const) {
        const res = await h.app.inject({ method: r.method as 'POST', url: fill(r.url), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': type }, payload });
        expectCoded(res, `${key(r)} ${type} ${payload.length} bytes`);
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
        n++;
      }
    }
    recordFuzz('malformed bodies', { requests: n });
  });

  it('answers fuzzed query strings on every GET route with a 2xx or a coded 4xx', async () => {
    const gets = routes().filter((r) => r.method === 'GET');
    let n = 0;
    const value = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('-1', '1e999', '0x10', 'NaN', '', '%', '../', "'", 'null', '9'.repeat(40)));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...gets), fc.dictionary(fc.constantFrom('limit', 'cursor', 'status', 'rule', 'severity', 'q', 'sort', 'since', 'days', 'group', 'hostId', 'x'), value, { maxKeys: 4 }), async (r, query) => {
        const qs = new URLSearchParams(query).toString();
        const res = await h.app.inject({ method: 'GET', url: `${fill(r.url)}${qs ? `?${qs}` : ''}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        n++;
        expect(res.statusCode, `${r.url}?${qs}`).toBeLessThan(500);
        if (res.statusCode >= 400 && res.headers['content-type']?.toString().includes('json')) expect(res.json().error.code).toMatch(/^VIGIL_ERR_/);
      }),
      { numRuns: fuzzRuns(300), seed: fuzzSeed(), endOnFailure: true },
    );
    recordFuzz('GET query strings', { requests: n });
    expect((await h.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  }, 60_000);
});
