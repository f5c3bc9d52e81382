import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorResponse } from '@vigil/shared';
import { startHarness, type Harness } from '../test-support/harness.js';

// The page and its assets as the collector serves them (the browser itself: test/dashboard.test.ts).

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h.close());

describe('the dashboard at /', () => {
  it('serves the page with a strict content security policy, and its modules and styles', async () => {
    const page = await h.app.inject({ url: '/', headers: { host: '127.0.0.1:8470' } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="/assets/main.js">');
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws://127.0.0.1:8470 wss://127.0.0.1:8470; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const js = await h.app.inject({ url: '/assets/main.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toContain("from './api.js'");
    expect((await h.app.inject({ url: '/assets/style.css' })).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('serves nothing but flat asset names, and never renders data as HTML', async () => {
    for (const url of ['/assets/..%2Fpackage.json', '/assets/%2e%2e%2fpublic%2findex.html', '/assets/main.ts', '/assets/MAIN.JS', '/assets/.tsbuildinfo']) {
      const res = await h.app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(ErrorResponse.parse(res.json()).error.code).toBe('VIGIL_ERR_NOT_FOUND');
    }
    // A Host header cannot smuggle anything into the policy.
    const odd = await h.app.inject({ url: '/', headers: { host: "evil'; script-src *" } });
    expect(odd.headers['content-security-policy']).toContain("connect-src 'self';");
    for (const file of ['main.js', 'alerts-page.js', 'hosts-page.js', 'dom.js', 'api.js']) {
      expect((await h.app.inject({ url: `/assets/${file}` })).body, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    }
  });
});
