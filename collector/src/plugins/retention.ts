import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { purgeExpired } from '../services/retention.js';

const DAY_MS = 86_400_000;

/** Runs the retention purge once the app is ready and then daily. */
export const retentionPlugin = fp(
  async function retention(app: FastifyInstance, opts: { retentionDays: number }) {
    let timer: NodeJS.Timeout | undefined;
    const run = () => {
      try {
        const purged = purgeExpired(app.store, opts.retentionDays);
        app.log.info({ ...purged, retentionDays: opts.retentionDays }, 'retention purge');
      } catch (err) {
        app.log.error({ err }, 'retention purge failed');
      }
    };
    app.addHook('onReady', async () => {
      run();
      timer = setInterval(run, DAY_MS).unref();
    });
    app.addHook('preClose', async () => clearInterval(timer));
  },
  { name: 'vigil-retention', dependencies: ['vigil-store'] },
);
