import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { z } from 'zod';
import { ERRORS, issueList, VigilError, type ErrorCode } from '@vigil/shared';
import { storageErrorCode } from '../db/storage-health.js';

/** A zod failure at a route boundary, carried through Fastify's validation path. */
export class RequestValidationError extends Error {
  constructor(readonly issues: z.ZodError) {
    super('request validation failed');
  }
}

export function sendError(reply: FastifyReply, code: ErrorCode, message?: string, details?: unknown) {
  return reply.code(ERRORS[code].status).send({ error: { code, message: message ?? ERRORS[code].message, ...(details === undefined ? {} : { details }) } });
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'VIGIL_ERR_BODY_NOT_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VIGIL_ERR_BODY_NOT_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'VIGIL_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VIGIL_ERR_VALIDATION',
};

/**
 * Route schemas are zod schemas, validated by zod; every error leaves as
 * `{error: {code: "VIGIL_ERR_…", message}}`, never a raw message or a stack.
 */
export const errorsPlugin = fp(async function errors(app: FastifyInstance) {
  app.setValidatorCompiler(({ schema }) => (data: unknown) => {
    const r = (schema as z.ZodType).safeParse(data);
    return r.success ? { value: r.data } : { error: new RequestValidationError(r.error) };
  });

  app.setNotFoundHandler((request, reply) => sendError(reply, 'VIGIL_ERR_ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`));

  app.setErrorHandler((err: FastifyError | VigilError | RequestValidationError, request, reply) => {
    if (err instanceof RequestValidationError) {
      return sendError(reply, 'VIGIL_ERR_VALIDATION', 'The request failed validation', issueList(err.issues));
    }
    // A full or read-only disk: the storage-health plugin logs it once, not once per request.
    if (!(err instanceof VigilError) && storageErrorCode(err) !== null && request.server.store?.health.failed(err)) {
      return sendError(reply, 'VIGIL_ERR_STORAGE_UNAVAILABLE');
    }
    if (err instanceof VigilError) {
      if (err.code === 'VIGIL_ERR_STORAGE_UNAVAILABLE') request.log.debug({ err }, err.message);
      else if (err.statusCode >= 500) request.log.error({ err }, err.message);
      return sendError(reply, err.code, err.message, err.details);
    }
    const mapped = 'code' in err && typeof err.code === 'string' ? FASTIFY_CODES[err.code] : undefined;
    if (mapped) return sendError(reply, mapped);
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) return sendError(reply, status === 404 ? 'VIGIL_ERR_NOT_FOUND' : 'VIGIL_ERR_VALIDATION');
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, 'VIGIL_ERR_INTERNAL');
  });
});
