import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import {
  AcknowledgeAlertRequest,
  AlertIdParams,
  AlertListQuery,
  AlertStreamQuery,
  ResolveAlertRequest,
  VigilError,
  type Alert,
  type AlertAction,
  type AlertFeedFrame,
  type AlertWithHistory,
  type ListEnvelope,
} from '@vigil/shared';
import type { z } from 'zod';
import { alertMatches } from '../alerts/alert-feed.js';
import type { AlertChange } from '../alerts/alert-lifecycle.js';
import { groupsOf, toAlert } from '../db/alerts-repository.js';
import { actorOf } from '../plugins/auth.js';

/** Frames replayed per step when a feed subscriber resumes from a cursor. */
const REPLAY_PAGE = 500;
/** A feed subscriber this far behind (bytes queued) is cut off; it can resume with its cursor. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Close code for a subscriber that cannot keep up (RFC 6455 1013: try again later). */
const CLOSE_TOO_SLOW = 1013;

export async function alertRoutes(app: FastifyInstance) {
  const anyRole = app.requireRole('admin', 'analyst', 'auditor');
  const triage = app.requireRole('admin', 'analyst');

  app.get<{ Querystring: AlertListQuery }>(
    '/api/v1/alerts',
    { schema: { querystring: AlertListQuery }, preHandler: anyRole },
    async (request): Promise<ListEnvelope<Alert>> => app.store.alerts.list(request.query),
  );

  app.get<{ Params: z.infer<typeof AlertIdParams> }>(
    '/api/v1/alerts/:id',
    { schema: { params: AlertIdParams }, preHandler: anyRole },
    async (request): Promise<AlertWithHistory> => {
      const row = app.store.alerts.get(request.params.id);
      if (!row) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such alert');
      return { ...toAlert(row, row.hostname), history: app.store.alerts.historyOf(row.id) };
    },
  );

  app.post<{ Params: z.infer<typeof AlertIdParams>; Body: z.infer<typeof AcknowledgeAlertRequest> }>(
    '/api/v1/alerts/:id/acknowledge',
    { schema: { params: AlertIdParams, body: AcknowledgeAlertRequest }, preHandler: triage },
    async (request): Promise<Alert> =>
      app.engine.run(() => app.engine.lifecycle.acknowledge(request.params.id, actorOf(request), request.body?.note ?? null, Date.now())),
  );

  app.post<{ Params: z.infer<typeof AlertIdParams>; Body: z.infer<typeof ResolveAlertRequest> }>(
    '/api/v1/alerts/:id/resolve',
    { schema: { params: AlertIdParams, body: ResolveAlertRequest }, preHandler: triage },
    async (request): Promise<Alert> =>
      app.engine.run(() => app.engine.lifecycle.resolve(request.params.id, actorOf(request), request.body.resolution, request.body.note ?? null, Date.now())),
  );

  /**
   * The live feed: every alert change as `{cursor, action, alert}`, filtered like the list. With
   * `?cursor=` it first replays every change after that cursor (from the stored history), then
   * continues live without a gap or a duplicate; without one it starts from now.
   */
  app.get<{ Querystring: AlertStreamQuery }>(
    '/api/v1/alerts/stream',
    { websocket: true, schema: { querystring: AlertStreamQuery }, preHandler: anyRole },
    (socket: WebSocket, request) => {
      const filter = request.query;
      let last = filter.cursor === undefined ? app.store.alerts.lastSeq() : Number(filter.cursor);
      let replaying = true;
      let closed = false;
      const held: AlertChange[] = [];

      const send = (cursor: number, action: AlertAction, alert: Alert, groups: readonly string[]) => {
        if (closed || cursor <= last) return;
        last = cursor;
        if (!alertMatches(filter, alert, groups)) return;
        if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
          closed = true;
          socket.close(CLOSE_TOO_SLOW, 'too slow: reconnect with ?cursor=');
          return;
        }
        const frame: AlertFeedFrame = { cursor: String(cursor), action, alert: { ...alert, cursor: String(cursor) } };
        socket.send(JSON.stringify(frame));
      };

      const unsubscribe = app.alertFeed.subscribe((change) => {
        if (replaying) held.push(change);
        else send(change.cursor, change.action, change.alert, change.groups);
      });
      const ping = setInterval(() => socket.ping(), 30_000);
      ping.unref();
      socket.on('close', () => {
        closed = true;
        clearInterval(ping);
        unsubscribe();
      });
      socket.on('error', (err) => request.log.debug({ err }, 'alert feed socket error'));
      // Browsers and scripts send nothing on this socket; anything they do send is ignored.

      const replay = () => {
        if (closed) return;
        try {
          const rows = app.store.alerts.eventsAfter(last, REPLAY_PAGE);
          for (const r of rows) send(r.seq, r.action, JSON.parse(r.alert) as Alert, groupsOf(r.groups));
          if (rows.length === REPLAY_PAGE) return void setImmediate(replay);
        } catch (err) {
          request.log.error({ err }, 'alert feed replay failed');
          socket.close(1011, 'replay failed');
          return;
        }
        replaying = false;
        for (const c of held.splice(0)) send(c.cursor, c.action, c.alert, c.groups);
      };
      replay();
    },
  );
}
