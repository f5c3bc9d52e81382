import type { FastifyInstance } from 'fastify';
import {
  ApprovalListQuery,
  CreateExceptionRequest,
  CreateUsbApprovalRequest,
  ExceptionListQuery,
  IdParams,
  UsbBaselineRequest,
  type ListEnvelope,
  type PolicyException,
  type UsbApproval,
} from '@vigil/shared';
import type { z } from 'zod';
import { VigilError } from '@vigil/shared';
import { actorOf } from '../plugins/auth.js';

/**
 * USB approvals and policy exceptions: what analysts record to allow a device or accept a breach
 * for a while, without editing the policy document. Creating one re-judges the alerts it covers at
 * once (an approved device's alert is resolved as `approved`, an excepted one as `excepted`).
 */
export async function approvalRoutes(app: FastifyInstance) {
  const anyRole = app.requireRole('admin', 'analyst', 'auditor');
  const triage = app.requireRole('admin', 'analyst');
  type Id = { Params: z.infer<typeof IdParams> };

  app.get<{ Querystring: ApprovalListQuery }>(
    '/api/v1/usb/approvals',
    { schema: { querystring: ApprovalListQuery }, preHandler: anyRole },
    async (request): Promise<ListEnvelope<UsbApproval>> => app.store.approvals.list(request.query, Date.now()),
  );

  app.post<{ Body: CreateUsbApprovalRequest }>(
    '/api/v1/usb/approvals',
    { schema: { body: CreateUsbApprovalRequest }, preHandler: triage },
    async (request, reply): Promise<UsbApproval> => {
      const approval = app.engine.createApproval(request.body, actorOf(request));
      reply.code(201);
      return approval;
    },
  );

  app.post<{ Body: UsbBaselineRequest }>(
    '/api/v1/usb/approvals/baseline',
    { schema: { body: UsbBaselineRequest }, preHandler: triage },
    async (request, reply): Promise<{ hosts: number; approvals: UsbApproval[] }> => {
      const result = app.engine.baseline(request.body, actorOf(request));
      reply.code(201);
      return result;
    },
  );

  app.get<Id>('/api/v1/usb/approvals/:id', { schema: { params: IdParams }, preHandler: anyRole }, async (request): Promise<UsbApproval> => {
    const a = app.store.approvals.get(request.params.id, Date.now());
    if (!a) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such approval');
    return a;
  });

  app.post<Id>('/api/v1/usb/approvals/:id/revoke', { schema: { params: IdParams }, preHandler: triage }, async (request): Promise<UsbApproval> =>
    app.engine.revokeApproval(request.params.id, actorOf(request)),
  );

  app.get<{ Querystring: ExceptionListQuery }>(
    '/api/v1/exceptions',
    { schema: { querystring: ExceptionListQuery }, preHandler: anyRole },
    async (request): Promise<ListEnvelope<PolicyException>> => app.store.exceptions.list(request.query, Date.now()),
  );

  app.post<{ Body: CreateExceptionRequest }>(
    '/api/v1/exceptions',
    { schema: { body: CreateExceptionRequest }, preHandler: triage },
    async (request, reply): Promise<PolicyException> => {
      const e = app.engine.createException(request.body, actorOf(request));
      reply.code(201);
      return e;
    },
  );

  app.get<Id>('/api/v1/exceptions/:id', { schema: { params: IdParams }, preHandler: anyRole }, async (request): Promise<PolicyException> => {
    const e = app.store.exceptions.get(request.params.id, Date.now());
    if (!e) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such exception');
    return e;
  });

  app.post<Id>('/api/v1/exceptions/:id/revoke', { schema: { params: IdParams }, preHandler: triage }, async (request): Promise<PolicyException> =>
    app.engine.revokeException(request.params.id, actorOf(request)),
  );
}
