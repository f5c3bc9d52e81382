import http from 'node:http';
import https from 'node:https';
import { ErrorResponse, VigilError } from '@vigil/shared';
import type { ClientConfig } from '../config.js';

/** A small JSON client for the admin commands that need the running collector. */
export function apiRequest(config: ClientConfig, method: string, path: string, body?: unknown): Promise<unknown> {
  const url = new URL(path, `${config.url}/`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method,
        headers: {
          authorization: `Bearer ${config.token}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: 15_000,
        ...(config.ca ? { ca: config.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            return reject(new VigilError('VIGIL_ERR_INTERNAL', `the collector answered ${res.statusCode} with a body that is not JSON`));
          }
          if ((res.statusCode ?? 500) >= 400) {
            const e = ErrorResponse.safeParse(json);
            return reject(e.success ? Object.assign(new Error(e.data.error.message), { code: e.data.error.code }) : new Error(`HTTP ${res.statusCode}`));
          }
          resolve(json);
        });
      },
    );
    req.on('timeout', () => req.destroy(new VigilError('VIGIL_ERR_COLLECTOR_UNREACHABLE', `no answer from ${config.url}`)));
    req.on('error', (err) =>
      reject(err instanceof VigilError ? err : new VigilError('VIGIL_ERR_COLLECTOR_UNREACHABLE', `cannot reach ${config.url}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)),
    );
    req.end(payload);
  });
}
