import type { FastifyInstance } from 'fastify';
import { PolicyVersionParams, PolicyVersionQuery, VigilError, type CurrentPolicy, type ListEnvelope, type PolicyVersionInfo, type PutPolicyResponse } from '@vigil/shared';
import { DEFAULT_POLICY, POLICY_DOCUMENT_MAX_BYTES } from '@vigil/shared/policy';
import { z } from 'zod';
import { actorOf } from '../plugins/auth.js';

/** YAML media types accepted by `PUT /api/v1/policy` besides JSON and text/plain. */
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** The body of `PUT /api/v1/policy`: the document as text (YAML or plain), or JSON `{document}`. */
const PutPolicyBody = z.union([z.string(), z.object({ document: z.string() }).strict()], {
  error: 'send the policy as YAML (Content-Type: application/yaml or text/plain) or as JSON {"document": "<yaml>"}',
});

/**
 * `GET /api/v1/policy` (admin): the version in force. `PUT` (admin): a new version; a bad document
 * is refused with every problem listed (422 `VIGIL_ERR_POLICY_INVALID`) and the old one stays.
 * Every change is versioned with who and when, and re-evaluates every host.
 */
export async function policyRoutes(app: FastifyInstance) {
  const admin = app.requireRole('admin');
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit: POLICY_DOCUMENT_MAX_BYTES + 1024 }, (_req, body, done) => done(null, body));

  app.get('/api/v1/policy', { preHandler: admin }, async (): Promise<CurrentPolicy> => {
    const current = app.store.policy.currentDocument();
    const inForce = app.engine.policyInForce;
    if (!current) {
      return { version: 0, sha256: '', source: 'default', createdBy: 'vigil', createdAt: new Date(0).toISOString(), document: '{}\n', policy: DEFAULT_POLICY };
    }
    const { document, ...info } = current;
    return { ...info, document, policy: inForce.version === current.version ? inForce.policy : {} };
  });

  app.put<{ Body: z.infer<typeof PutPolicyBody> }>(
    '/api/v1/policy',
    { schema: { body: PutPolicyBody }, preHandler: admin, bodyLimit: POLICY_DOCUMENT_MAX_BYTES + 64 * 1024 },
    async (request): Promise<PutPolicyResponse> => {
      const document = typeof request.body === 'string' ? request.body : request.body.document;
      return app.engine.setPolicy(document, 'api', actorOf(request));
    },
  );

  app.get<{ Querystring: z.infer<typeof PolicyVersionQuery> }>(
    '/api/v1/policy/versions',
    { schema: { querystring: PolicyVersionQuery }, preHandler: admin },
    async (request): Promise<ListEnvelope<PolicyVersionInfo>> => {
      const before = request.query.cursor === undefined ? undefined : Number(request.query.cursor);
      if (before !== undefined && !Number.isSafeInteger(before)) throw new VigilError('VIGIL_ERR_VALIDATION', 'cursor is not valid');
      const rows = app.store.policy.list(request.query.limit + 1, before);
      const more = rows.length > request.query.limit;
      const items = more ? rows.slice(0, request.query.limit) : rows;
      return { items, nextCursor: more ? String(items.at(-1)?.version) : null };
    },
  );

  app.get<{ Params: z.infer<typeof PolicyVersionParams> }>(
    '/api/v1/policy/versions/:version',
    { schema: { params: PolicyVersionParams }, preHandler: admin },
    async (request): Promise<PolicyVersionInfo & { document: string }> => {
      const v = app.store.policy.getVersion(request.params.version);
      if (!v) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such policy version');
      return v;
    },
  );
}
