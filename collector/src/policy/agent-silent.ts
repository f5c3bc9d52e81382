import type { Severity } from '@vigil/shared/policy';
import type { Finding } from './finding.js';

/**
 * `agent.silent`: no frame from the host's agent for at least the threshold, and its last word
 * was not a `goodbye`. A host whose agent said goodbye (sleep, shutdown, stop, uninstall) and has
 * sent nothing since is merely offline. A host never heard from is not silent either (it has
 * never reported, which the host list shows). Time-driven: re-run it as time passes.
 */

/** What the collector knows of the host's agent connection. Times are epoch milliseconds. */
export interface AgentPresence {
  /** When the last frame (of any type) arrived; null if none ever has. */
  lastSeenAt: number | null;
  /** The last goodbye received, if any. */
  lastGoodbye: { at: number; reason: string } | null;
  /** Whether a WebSocket from the agent is open now. */
  connected: boolean;
}

/** What the evaluator needs from the host's effective policy. */
export interface SilentRuleSettings {
  /** The effective `silentThresholdSeconds`. */
  thresholdSeconds: number;
  severity: Severity;
}

/** The subject of `agent.silent`: one per host, stable when the agent re-enrols. */
export const AGENT_SILENT_SUBJECT = 'agent';

/** The finding for one host at `now`, or none. */
export function evaluateAgentSilent(presence: AgentPresence, rule: SilentRuleSettings, now: number): Finding[] {
  const { lastSeenAt, lastGoodbye, connected } = presence;
  if (lastSeenAt === null) return [];
  if (lastGoodbye !== null && lastGoodbye.at >= lastSeenAt) return [];
  const silentMs = now - lastSeenAt;
  if (silentMs < rule.thresholdSeconds * 1000) return [];
  const silentSeconds = Math.floor(silentMs / 1000);
  return [
    {
      rule: 'agent.silent',
      subject: AGENT_SILENT_SUBJECT,
      severity: rule.severity,
      details: {
        lastSeenAt: new Date(lastSeenAt).toISOString(),
        silentSeconds,
        thresholdSeconds: rule.thresholdSeconds,
        connected,
        lastGoodbye: lastGoodbye && { at: new Date(lastGoodbye.at).toISOString(), reason: lastGoodbye.reason },
        message: connected
          ? `the connection is open but nothing has arrived for ${silentSeconds} s: the agent may be hung`
          : `no frame and no goodbye for ${silentSeconds} s: the agent may have been stopped, blocked or removed`,
      },
    },
  ];
}
