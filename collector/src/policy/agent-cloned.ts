import type { Severity } from '@vigil/shared/policy';
import type { CloneEvidence } from '../services/clone-detector.js';
import type { Finding, JsonObject } from './finding.js';

/**
 * `agent.cloned`: one agent token in use by two copies of the agent at once (a cloned machine
 * image, a restored VM snapshot, a copied state directory). Event-driven: the gateway raises it
 * when a hello shows two copies (see services/clone-detector.ts for the signals); it is never
 * cleared by itself, since the copies keep their shared token until an analyst revokes it and
 * re-enrols one of them, then resolves the alert. Both copies' messages are still stored (they
 * have different ids); the newest connection keeps replacing the other, as before.
 */

/** The subject: the agent whose token is shared (a host may have had several agents). */
export const agentClonedSubject = (agentId: string) => `agent:${agentId}`;

const SIGNAL_TEXT: Record<CloneEvidence['signals'][number], string> = {
  'seq-regression': 'a copy reconnected with an outbox behind what the collector already holds from this agent',
  'instance-alternation': 'two agent processes with one token keep replacing each other',
  'peer-alternation': 'connections with one token keep alternating between addresses',
};

/** The finding for a detection; `detections`: how many hellos showed it since the collector started. */
export function agentClonedFinding(evidence: CloneEvidence, severity: Severity, detections: number): Finding {
  const peers = [...new Set(evidence.copies.flatMap((c) => c.peers))];
  return {
    rule: 'agent.cloned',
    subject: agentClonedSubject(evidence.agentId),
    severity,
    details: {
      agentId: evidence.agentId,
      signals: evidence.signals,
      copies: evidence.copies as unknown as JsonObject[],
      peers,
      supersessions: evidence.supersessions,
      alternations: evidence.alternations,
      helloLastSeq: evidence.helloLastSeq,
      committedSeq: evidence.committedSeq,
      windowSeconds: evidence.windowSeconds,
      detections,
      message: `one agent token is in use by more than one copy of the agent (${evidence.signals.map((s) => SIGNAL_TEXT[s]).join('; ')}; ${evidence.copies.length} agent processes or addresses in the last ${Math.round(evidence.windowSeconds / 60)} min): a cloned image, a restored snapshot or a copied state directory. Every copy's messages are kept; revoke the token and re-enrol the copies`,
    },
  };
}
