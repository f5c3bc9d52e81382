import type { FastifyInstance } from 'fastify';
import {
  CreateNotificationTargetRequest,
  DeliveryListQuery,
  NotificationTargetIdParams,
  UpdateNotificationTargetRequest,
  VigilError,
  type ListEnvelope,
  type NotificationDelivery,
  type NotificationTarget,
} from '@vigil/shared';
import { actorOf } from '../plugins/auth.js';

/** Notification targets and their deliveries (admin only: targets hold credentials). */
export async function notificationRoutes(app: FastifyInstance) {
  const admin = app.requireRole('admin');
  const repo = app.store.notifications;
  const notFound = () => new VigilError('VIGIL_ERR_NOT_FOUND', 'No such notification target');

  app.get('/api/v1/notifications/targets', { preHandler: admin }, async (): Promise<ListEnvelope<NotificationTarget>> => ({
    items: repo.listTargets(),
    nextCursor: null,
  }));

  app.post<{ Body: CreateNotificationTargetRequest }>(
    '/api/v1/notifications/targets',
    { schema: { body: CreateNotificationTargetRequest }, preHandler: admin },
    async (request, reply): Promise<NotificationTarget> => {
      const target = repo.createTarget(request.body, request.principal?.name ?? 'unknown');
      request.log.info({ targetId: target.id, kind: target.kind, name: target.name, by: request.principal?.name }, 'notification target created');
      app.store.audit.append({ actor: actorOf(request), action: 'notification.target.changed', subject: target.id, details: { change: 'created', kind: target.kind, name: target.name } });
      return reply.code(201).send(target);
    },
  );

  app.get<{ Params: NotificationTargetIdParams }>(
    '/api/v1/notifications/targets/:id',
    { schema: { params: NotificationTargetIdParams }, preHandler: admin },
    async (request): Promise<NotificationTarget> => {
      const target = repo.getTarget(request.params.id);
      if (!target) throw notFound();
      return target;
    },
  );

  app.patch<{ Params: NotificationTargetIdParams; Body: UpdateNotificationTargetRequest }>(
    '/api/v1/notifications/targets/:id',
    { schema: { params: NotificationTargetIdParams, body: UpdateNotificationTargetRequest }, preHandler: admin },
    async (request): Promise<NotificationTarget> => {
      const target = repo.updateTarget(request.params.id, request.body);
      if (!target) throw notFound();
      // Which fields changed, never their values (a config holds credentials).
      request.log.info({ targetId: target.id, changed: Object.keys(request.body), by: request.principal?.name }, 'notification target updated');
      app.store.audit.append({ actor: actorOf(request), action: 'notification.target.changed', subject: target.id, details: { change: 'updated', fields: Object.keys(request.body) } });
      return target;
    },
  );

  app.delete<{ Params: NotificationTargetIdParams }>(
    '/api/v1/notifications/targets/:id',
    { schema: { params: NotificationTargetIdParams }, preHandler: admin },
    async (request, reply) => {
      if (!repo.deleteTarget(request.params.id)) throw notFound();
      request.log.info({ targetId: request.params.id, by: request.principal?.name }, 'notification target deleted');
      app.store.audit.append({ actor: actorOf(request), action: 'notification.target.changed', subject: request.params.id, details: { change: 'deleted' } });
      return reply.code(204).send();
    },
  );

  /** Queue a test message to the target (even a disabled one) and return the delivery; follow it in the deliveries list. */
  app.post<{ Params: NotificationTargetIdParams }>(
    '/api/v1/notifications/targets/:id/test',
    { schema: { params: NotificationTargetIdParams }, preHandler: admin },
    async (request, reply): Promise<NotificationDelivery> => {
      const delivery = repo.enqueueTest(request.params.id, request.principal?.name ?? 'unknown', Date.now());
      if (!delivery) throw notFound();
      app.notifications.kick();
      return reply.code(202).send(delivery);
    },
  );

  app.get<{ Querystring: DeliveryListQuery }>(
    '/api/v1/notifications/deliveries',
    { schema: { querystring: DeliveryListQuery }, preHandler: admin },
    async (request): Promise<ListEnvelope<NotificationDelivery>> => repo.listDeliveries(request.query),
  );
}
