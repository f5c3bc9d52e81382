import { randomBytes } from 'node:crypto';
import { AUDIT_DEFAULT_PERIOD_DAYS, uuidv7, VigilError, type AuditSampleRequestParsed, type Strata } from '@vigil/shared';
import type { PopulationHost } from '../db/audits-repository.js';
import type { Store } from '../db/store.js';
import { ALGORITHM, ALL_STRATUM, drawSample, populationHash, sampleHash, sizeOfRequest, sortPopulation, type PopulationMember, type SampledMember } from './sampling.js';

/** The stratum a host falls in; `(none)` for a host in none of the groups split by. */
export const NO_GROUP = '(none)';

export function stratumOf(host: PopulationHost, strata: Strata | undefined): string {
  if (!strata) return ALL_STRATUM;
  const parts = strata.by.map((key) => {
    if (key === 'platform') return host.platform;
    const named = strata.groups ? strata.groups.find((g) => host.groups.includes(g)) : [...host.groups].sort()[0];
    return named ?? NO_GROUP;
  });
  return parts.join('/');
}

export interface DrawResult {
  id: string;
  sample: SampledMember[];
  periodFrom: number;
  periodTo: number;
}

/**
 * Draws a sample and records it, with the audit-log entry that holds its seed and the hashes of
 * its population and sample, in one transaction. Sending collect-now to the sampled agents is the
 * caller's (after commit).
 */
export function drawAudit(store: Store, request: AuditSampleRequestParsed, actor: string, now = Date.now()): DrawResult {
  const periodTo = request.period ? Date.parse(request.period.to) : now;
  const periodFrom = request.period ? Date.parse(request.period.from) : now - AUDIT_DEFAULT_PERIOD_DAYS * 86_400_000;
  if (periodFrom > now) throw new VigilError('VIGIL_ERR_VALIDATION', 'The period under review must start before now', { details: [{ path: 'period.from', message: 'is in the future' }] });
  const seedGenerated = request.seed === undefined;
  const seed = request.seed ?? randomBytes(32).toString('hex');
  const id = uuidv7(now);

  return store.transaction(() => {
    const hosts = store.audits.populationHosts({ platforms: request.platforms, groups: request.groups });
    const population: PopulationMember[] = sortPopulation(hosts.map((h) => ({ hostId: h.id, stratum: stratumOf(h, request.strata) })));
    const stored = {
      ...(request.size === undefined ? {} : { size: request.size }),
      ...(request.percent === undefined ? {} : { percent: request.percent }),
      ...(request.strata ? { strata: request.strata } : {}),
      ...(request.platforms ? { platforms: request.platforms } : {}),
      ...(request.groups ? { groups: request.groups } : {}),
      pseudonymiseUsers: request.pseudonymiseUsers,
    };
    if (population.length === 0) throw new VigilError('VIGIL_ERR_SAMPLE_SIZE', 'The population is empty: no enrolled, non-retired host matches the filters');
    if (request.size !== undefined && request.size > population.length) {
      throw new VigilError('VIGIL_ERR_SAMPLE_SIZE', `The sample size ${request.size} is larger than the population (${population.length} hosts)`, {
        details: { size: request.size, population: population.length },
      });
    }
    const sample = drawSample(seed, population, sizeOfRequest(stored, population.length));
    if (sample.length === 0) throw new VigilError('VIGIL_ERR_SAMPLE_SIZE', 'The sample is empty');
    const populationSha256 = populationHash(population);
    const sampleSha256 = sampleHash(sample);
    const { seq } = store.audit.append(
      {
        actor,
        action: 'audit.sampled',
        subject: `audit:${id}`,
        details: {
          algorithm: ALGORITHM,
          seed,
          seedGenerated,
          populationSize: population.length,
          populationSha256,
          sampleSize: sample.length,
          sampleSha256,
          period: { from: new Date(periodFrom).toISOString(), to: new Date(periodTo).toISOString() },
          request: stored,
        },
      },
      now,
    );
    store.audits.create(
      {
        id,
        title: request.title ?? null,
        algorithm: ALGORITHM,
        seed,
        seedGenerated,
        request: stored,
        periodFrom,
        periodTo,
        population,
        populationSha256,
        sampleSha256,
        pseudonymKey: request.pseudonymiseUsers ? randomBytes(32).toString('hex') : null,
        auditLogSeq: seq,
        createdAt: now,
        createdBy: actor,
      },
      sample,
    );
    return { id, sample, periodFrom, periodTo };
  });
}
