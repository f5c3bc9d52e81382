import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';

export interface StorageHealthOptions {
  /** How often a write is tried while the storage is unavailable, ms. */
  probeMs?: number;
  /** Free bytes the data directory's filesystem needs before writes resume (so a few freed pages do not make it flap). */
  minFreeBytes?: number;
}

/**
 * A full, read-only or failing disk under the database: said once in the log (not once per
 * refused batch or request), shown by `/readyz` (503 `VIGIL_ERR_STORAGE_UNAVAILABLE`) and by
 * `vigil_storage_available` in `/metrics`, and tried again every `probeMs` until a write succeeds,
 * so the collector resumes by itself when space returns. Meanwhile every write is refused with
 * that code: agents keep what is not acknowledged in their outboxes and send it again.
 */
export const storageHealthPlugin = fp(
  async function storageHealth(app: FastifyInstance, opts: StorageHealthOptions) {
    const health = app.store.health;
    const probeMs = opts.probeMs ?? 1000;
    const minFreeBytes = opts.minFreeBytes ?? 4 * 1024 * 1024;
    let timer: NodeJS.Timeout | undefined;
    const probe = () => {
      timer = undefined;
      if (!app.store.probeWrite(minFreeBytes)) timer = setTimeout(probe, probeMs).unref();
    };
    const off = health.onChange((e) => {
      if (e.kind === 'unavailable') {
        app.log.error(
          { code: e.code, err: e.err },
          'storage unavailable: refusing writes until it can write again',
        );
        timer ??= setTimeout(probe, probeMs).unref();
      } else {
        app.log.info({ unavailableSeconds: Math.round(e.unavailableMs / 100) / 10, refusedWrites: e.refusedWrites }, 'storage available again');
      }
    });
    new Gauge({
      name: 'vigil_storage_available',
      help: '1 when the database can be written; 0 while the disk is full, read-only or failing (writes are refused with VIGIL_ERR_STORAGE_UNAVAILABLE)',
      registers: [app.metrics.registry],
      collect() {
        this.set(health.available ? 1 : 0);
      },
    });
    app.addHook('onClose', async () => {
      off();
      clearTimeout(timer);
    });
  },
  { name: 'vigil-storage-health', dependencies: ['vigil-store', 'vigil-metrics'] },
);
