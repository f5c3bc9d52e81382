import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Store } from '../db/store.js';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
  }
}

/** The database, shared by every plugin; closed last, after the gateway has flushed. */
export const storePlugin = fp(
  async function storePlugin(app: FastifyInstance, opts: { store: Store }) {
    app.decorate('store', opts.store);
    app.addHook('onClose', async () => opts.store.close());
  },
  { name: 'vigil-store' },
);
