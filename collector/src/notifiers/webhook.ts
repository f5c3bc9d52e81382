import { createHmac } from 'node:crypto';
import { eventName, formatJson } from './format-json.js';
import { cleanText, formatText } from './format-text.js';
import type { OutgoingDelivery, Transport } from './types.js';

export interface WebhookTransportOptions {
  /** `User-Agent` of every request. */
  userAgent: string;
  /** Injectable for tests; the global fetch by default. */
  fetch?: typeof fetch;
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`, the `X-Vigil-Signature` header. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** An HTTP answer other than 2xx. */
export class WebhookStatusError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(`HTTP ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'WebhookStatusError';
  }
}

/** The first bytes of a refused answer's body, cleaned: receivers often say why there. */
async function bodySnippet(res: Response, maxBytes = 256): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.byteLength;
    }
  } catch {
    // the snippet is a courtesy: the status says enough
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return cleanText(Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8'), 200);
}

/**
 * POST one JSON body. 2xx is delivered; anything else, a redirect included (never followed: a
 * receiver cannot bounce alerts somewhere else), is an error carrying the status.
 */
export async function postJson(doFetch: typeof fetch, url: string, body: string, headers: Headers | Record<string, string>, signal: AbortSignal): Promise<void> {
  const res = await doFetch(url, { method: 'POST', body, headers, redirect: 'manual', signal });
  if (res.status >= 200 && res.status < 300) {
    await res.body?.cancel().catch(() => undefined);
    return;
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    throw new WebhookStatusError(res.status, 'redirects are not followed');
  }
  throw new WebhookStatusError(res.status, await bodySnippet(res));
}

/**
 * Webhook targets: `webhook` (the generic JSON body, custom headers, optional HMAC signature) and
 * `slack` (`{"text": …}`, which Slack and Microsoft Teams incoming webhooks both accept).
 */
export function createWebhookTransport(opts: WebhookTransportOptions): Transport {
  const doFetch = opts.fetch ?? fetch;
  return {
    async send(d: OutgoingDelivery, signal: AbortSignal): Promise<void> {
      const t = d.target;
      const common = {
        'content-type': 'application/json',
        'user-agent': opts.userAgent,
        'x-vigil-event': eventName(d.payload),
        'x-vigil-delivery': String(d.id),
      };
      if (t.kind === 'webhook') {
        const body = formatJson(d.payload);
        const headers = new Headers(common);
        // Configured headers replace Vigil's defaults case-insensitively (User-Agent, say); the schema keeps the rest reserved.
        for (const [name, value] of Object.entries(t.config.headers)) headers.set(name, value);
        if (t.config.secret !== undefined) headers.set('x-vigil-signature', signBody(body, t.config.secret));
        return postJson(doFetch, t.config.url, body, headers, signal);
      }
      if (t.kind === 'slack') {
        return postJson(doFetch, t.config.url, JSON.stringify({ text: formatText(d.payload, 'slack') }), common, signal);
      }
      throw new Error(`the webhook transport cannot send to a ${t.kind} target`);
    },
    close() {
      // fetch pools its own connections
    },
  };
}
