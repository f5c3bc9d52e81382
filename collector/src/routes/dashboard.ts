import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { VigilError } from '@vigil/shared';

/** The dashboard workspace: `public/` (page, styles) and `dist/` (its compiled ES modules). */
const DASHBOARD = fileURLToPath(new URL('../../../dashboard/', import.meta.url));
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json; charset=utf-8' };
/** Only flat names: nothing of the request reaches a path beyond this. */
const ASSET = /^[a-z0-9-]+\.(js|css|js\.map)$/;

function securityHeaders(reply: FastifyReply, host: string | undefined): void {
  const h = host && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? host : '';
  reply
    .header(
      'content-security-policy',
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'${h ? ` ws://${h} wss://${h}` : ''}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    )
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache');
}

/**
 * The IT dashboard at `/`: one page and its assets, read from the dashboard workspace (built by
 * `tsc -b` in `npm ci`/`npm start`). The page itself holds no data: it calls the API with the
 * session cookie, so every role check stays on the server.
 */
export async function dashboardRoutes(app: FastifyInstance, opts: { dir?: string }) {
  const dir = opts.dir ?? DASHBOARD;
  const read = (file: string) => {
    try {
      return fs.readFileSync(file);
    } catch {
      return undefined;
    }
  };

  app.get('/', async (request, reply) => {
    const page = read(path.join(dir, 'public', 'index.html'));
    if (!page || !fs.existsSync(path.join(dir, 'dist', 'main.js'))) throw new VigilError('VIGIL_ERR_NOT_READY', 'The dashboard is not built: run npm run build');
    securityHeaders(reply, request.headers.host);
    return reply.type('text/html; charset=utf-8').send(page);
  });

  app.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
    const { file } = request.params;
    if (!ASSET.test(file)) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such asset');
    const body = read(path.join(dir, 'public', file)) ?? read(path.join(dir, 'dist', file));
    if (!body) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such asset');
    securityHeaders(reply, request.headers.host);
    return reply.type(TYPES[path.extname(file)] ?? 'application/octet-stream').send(body);
  });
}
