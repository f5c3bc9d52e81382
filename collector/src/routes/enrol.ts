import type { FastifyInstance } from 'fastify';
import { EnrolRequest, VigilError, type EnrolResponse, type HostFacts } from '@vigil/shared';
import type { EnrolSecretRecord } from '../db/credentials-repository.js';
import type { Store } from '../db/store.js';

/** Most enrolments committed in one transaction. */
const MAX_BATCH = 512;

interface PendingEnrolment {
  facts: HostFacts;
  secret: EnrolSecretRecord;
  resolve: (r: EnrolResponse) => void;
  reject: (err: unknown) => void;
}

/**
 * Enrolments that arrive in the same turn of the event loop are committed in one transaction
 * (a commit costs more than the two inserts it holds). Under load — a fleet enrolling while the
 * collector ingests snapshots — many requests are parsed in each turn, so this takes most of the
 * per-enrolment commit cost away; alone, a batch is usually one enrolment and nothing changes. If
 * a batch fails, each of its enrolments is retried in its own transaction, so one bad request
 * cannot fail the others.
 */
class EnrolBatcher {
  private pending: PendingEnrolment[] = [];
  private scheduled = false;

  constructor(private readonly store: Store) {}

  enrol(facts: HostFacts, secret: EnrolSecretRecord): Promise<EnrolResponse> {
    return new Promise((resolve, reject) => {
      this.pending.push({ facts, secret, resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private create(p: PendingEnrolment): EnrolResponse {
    const hostId = this.store.hosts.create(p.facts, p.secret.groups, p.secret.id);
    return { hostId, ...this.store.agents.create(hostId) };
  }

  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let results: EnrolResponse[];
    try {
      results = this.store.transaction(() => batch.map((p) => this.create(p)));
    } catch {
      for (const p of batch) {
        try {
          p.resolve(this.store.transaction(() => this.create(p)));
        } catch (err) {
          p.reject(err);
        }
      }
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i] as EnrolResponse));
  }
}

/**
 * `POST /api/v1/enrol`: an enrolment secret and host facts buy an agent id and token. The host's
 * groups come from the secret, never from what the endpoint says about itself.
 */
export async function enrolRoutes(app: FastifyInstance) {
  const batcher = new EnrolBatcher(app.store);
  // Requests still waiting for their batch get it before the store closes.
  app.addHook('preClose', async () => batcher.flush());
  app.post<{ Body: EnrolRequest }>(
    '/api/v1/enrol',
    // One line per enrolment (below), not three: Fastify's own request lines for this route only
    // at warn. A fleet enrols tens of thousands at once (the lines cost ~13 % of an enrolment's CPU).
    { schema: { body: EnrolRequest }, bodyLimit: 256 * 1024, logLevel: 'warn' },
    async (request, reply): Promise<EnrolResponse> => {
      const secret = app.store.credentials.findEnrolSecret(request.body.secret);
      if (!secret) {
        request.log.warn({ hostname: request.body.host.hostname.slice(0, 64), ip: request.ip }, 'enrolment refused: bad secret');
        throw new VigilError('VIGIL_ERR_ENROL_SECRET_INVALID');
      }
      const result = await batcher.enrol(request.body.host, secret);
      app.log.info({ reqId: request.id, ip: request.ip, hostId: result.hostId, agentId: result.agentId, secret: secret.name }, 'agent enrolled');
      reply.code(201);
      return result;
    },
  );
}
