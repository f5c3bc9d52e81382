import type { FastifyInstance } from 'fastify';
import { VigilError } from '@vigil/shared';

/** Liveness and readiness probes (no credentials: they reveal nothing). */
export async function healthRoutes(app: FastifyInstance) {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    let ok = false;
    try {
      ok = app.store.ping();
    } catch (err) {
      app.log.warn({ err }, 'readiness check failed');
    }
    if (!ok) throw new VigilError('VIGIL_ERR_NOT_READY', 'The database is not reachable');
    // Readable but not writable (disk full, read-only): not ready to take what agents send.
    if (!app.store.health.available) {
      throw new VigilError('VIGIL_ERR_STORAGE_UNAVAILABLE', undefined, { details: { reason: app.store.health.reason } });
    }
    return { status: 'ready' };
  });
}
