// Enrolment credentials of simulated agents, kept between runs so a second run with the same seed
// against the same collector reuses its hosts instead of enrolling new ones. The file holds agent
// tokens: it is written 0600 and replaced atomically.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hash32 } from './prng.mjs';

/** Default location: under the OS temp dir, one file per (seed, collector URL). */
export function defaultStateFile(seed, collectorUrl) {
  return path.join(os.tmpdir(), 'vigil-sim', `state-${hash32(`${seed}\u0000${collectorUrl}`).toString(16).padStart(8, '0')}.json`);
}

/** The agents recorded for this seed and collector, by index; empty when there is none or it is for another. */
export function loadState(file, { seed, collectorUrl }) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return new Map();
    throw new Error(`--state-file ${file}: cannot read it (${err.message}); delete it to start afresh`, { cause: err });
  }
  if (doc?.version !== 1 || doc.seed !== String(seed) || doc.collectorUrl !== collectorUrl || typeof doc.agents !== 'object') return new Map();
  const out = new Map();
  for (const [k, a] of Object.entries(doc.agents)) {
    if (typeof a?.agentId === 'string' && typeof a.hostId === 'string' && typeof a.agentToken === 'string') {
      out.set(Number(k), { agentId: a.agentId, hostId: a.hostId, agentToken: a.agentToken, lastSeq: Number.isInteger(a.lastSeq) ? a.lastSeq : 0 });
    }
  }
  return out;
}

export function saveState(file, { seed, collectorUrl }, agents) {
  const doc = { version: 1, seed: String(seed), collectorUrl, savedAt: new Date().toISOString(), agents: {} };
  for (const [i, a] of agents) doc.agents[i] = a;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(doc), { mode: 0o600 });
  fs.renameSync(tmp, file);
}
