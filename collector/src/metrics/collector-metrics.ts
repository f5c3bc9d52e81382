import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  AGENT_MESSAGE_TYPES,
  ALERT_ACTIONS,
  COLLECTOR_MESSAGE_BODIES,
  DELIVERY_STATUSES,
  ERROR_CODES,
  RULE_IDS,
  SEVERITIES,
  type AlertAction,
  type CollectorMessageType,
  type DeliveryCounts,
  type ErrorCode,
} from '@vigil/shared';
import type { ConnectionMetrics } from '../services/agent-connection.js';
import type { FrameCounts } from '../gateway/ipc.js';
import type { BatchOutcome, IngestMetrics } from '../services/ingest-queue.js';

/** What the gauges read when scraped: the live state of one app. */
export interface MetricSources {
  agentsConnected(): number;
  /** Sums over the connected agents' latest heartbeats. */
  agentOutbox(): { pending: number; dropped: number };
  ingestQueueLength(): number;
  openAlerts(): readonly { rule: string; severity: string; n: number }[];
  policyEvaluationFailures(): number;
  policyBacklog(): number;
  alertFeedSubscribers(): number;
  notificationDeliveries(): DeliveryCounts;
  /** Gateway worker processes (none without --gateway-workers). */
  gatewayWorkers(): readonly { worker: number; connections: number; rssBytes: number; heapUsedBytes: number; cpuSeconds: number }[];
}

const PREFIX = 'vigil_';
const OTHER = 'other';

let processRegistry: Registry | undefined;

/**
 * CPU, memory, event loop and GC metrics describe the process, not one app, so they are collected
 * once per process into a registry of their own (not prom-client's global one) and added to every
 * app's scrape. collectDefaultMetrics starts a GC observer and an event-loop monitor that are never
 * stopped: once per app would pile them up in a test process that builds many apps.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: PREFIX });
  }
  return processRegistry;
}

/**
 * Counts by a fixed set of label values in plain numbers — a frame costs one property increment,
 * not a label hash — published to a prom-client counter when it is scraped. A value outside the
 * set (untrusted input) counts as `other`, so a peer cannot create series.
 */
class Tally {
  private readonly counts: Record<string, number> = Object.create(null) as Record<string, number>;
  private readonly published: Record<string, number> = Object.create(null) as Record<string, number>;
  private readonly counter: Counter<string>;
  private readonly label: string;

  constructor(
    config: { name: string; help: string; label: string; values: readonly string[]; registers: Registry[] },
    /** Show every known value from the start (at 0), not only once seen. */
    zeroFill: boolean,
  ) {
    this.label = config.label;
    this.counter = new Counter({
      name: config.name,
      help: config.help,
      labelNames: [config.label],
      registers: config.registers,
      // An arrow: prom-client calls collect() with the counter as `this`.
      collect: () => this.publish(),
    });
    for (const v of [...config.values, OTHER]) {
      this.counts[v] = 0;
      this.published[v] = 0;
      if (zeroFill) this.counter.inc({ [this.label]: v }, 0);
    }
  }

  add(value: string | undefined, n = 1): void {
    if (value !== undefined && value in this.counts) this.counts[value]! += n;
    else this.counts[OTHER]! += n;
  }

  /** Moves what was counted since the last scrape into the counter. */
  publish(): void {
    for (const v in this.counts) {
      const n = this.counts[v]!;
      const delta = n - this.published[v]!;
      if (delta > 0) {
        this.counter.inc({ [this.label]: v }, delta);
        this.published[v] = n;
      }
    }
  }
}

const COLLECTOR_MESSAGE_TYPES = Object.keys(COLLECTOR_MESSAGE_BODIES) as CollectorMessageType[];

/**
 * The collector's metrics, in a registry of its own (one per app: tests build many). Names are
 * part of the product (README, "Metrics"). Hot-path counters are plain increments; gauges of
 * state (queue length, open alerts, deliveries…) are read from `sources` when scraped.
 */
export class CollectorMetrics implements ConnectionMetrics, IngestMetrics {
  readonly registry = new Registry();

  private readonly framesReceived: Tally;
  private readonly framesSent: Tally;
  private readonly framesRejected: Tally;
  private readonly agentConnections: Counter;
  private readonly agentDisconnections: Counter;
  private readonly connectionsDropped: Counter<'reason'>;
  private readonly ingestMessages: Counter<'result'>;
  private readonly ingestBatchSeconds: Histogram;
  private readonly ingestBatchSize: Histogram;
  private readonly ingestFailedBatches: Counter;
  private readonly alertChanges: Counter<'action'>;
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;

  constructor(sources: MetricSources) {
    // Registered now, not at the first scrape: the process CPU counters count from their
    // registration, so a first scrape would otherwise report (nearly) 0.
    processMetrics();
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name: PREFIX + name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });

    this.framesReceived = new Tally(
      { name: `${PREFIX}agent_frames_received_total`, help: 'WebSocket frames received from agents, by message type (other: unknown or unreadable).', label: 'type', values: AGENT_MESSAGE_TYPES, registers },
      true,
    );
    this.framesSent = new Tally(
      { name: `${PREFIX}agent_frames_sent_total`, help: 'WebSocket frames sent to agents, by message type.', label: 'type', values: COLLECTOR_MESSAGE_TYPES, registers },
      true,
    );
    this.framesRejected = new Tally(
      { name: `${PREFIX}agent_frames_rejected_total`, help: 'Agent frames not accepted, by the VIGIL_ERR code they were answered with.', label: 'code', values: ERROR_CODES, registers },
      false,
    );
    this.agentConnections = new Counter({ name: `${PREFIX}agent_connections_total`, help: 'Agent WebSocket connections accepted (token checked).', registers });
    this.agentDisconnections = new Counter({ name: `${PREFIX}agent_disconnections_total`, help: 'Agent WebSocket connections closed.', registers });
    this.connectionsDropped = new Counter({
      name: `${PREFIX}gateway_connections_dropped_total`,
      help: 'Connections a gateway worker closed before reading their request head, by reason (head_timeout: not sent within the head timeout, or not read in time by a worker that fell behind).',
      labelNames: ['reason'],
      registers,
    });
    this.connectionsDropped.inc({ reason: 'head_timeout' }, 0);
    gauge('agents_connected', 'Agents connected now (hello done).', () => sources.agentsConnected());
    // The process metrics describe the main process; these, the gateway workers holding agents' sockets.
    const perWorker = (name: string, help: string, read: (w: ReturnType<MetricSources['gatewayWorkers']>[number]) => number) =>
      new Gauge({
        name: PREFIX + name,
        help,
        labelNames: ['worker'],
        registers,
        collect() {
          this.reset();
          for (const w of sources.gatewayWorkers()) this.set({ worker: String(w.worker) }, read(w));
        },
      });
    perWorker('gateway_worker_connections', 'Agent connections held by each gateway worker process.', (w) => w.connections);
    perWorker('gateway_worker_resident_memory_bytes', 'Resident memory of each gateway worker process.', (w) => w.rssBytes);
    perWorker('gateway_worker_heap_used_bytes', 'JavaScript heap in use in each gateway worker process.', (w) => w.heapUsedBytes);
    perWorker('gateway_worker_cpu_seconds', 'CPU time (user + system) used by each gateway worker process so far.', (w) => w.cpuSeconds);
    gauge('agent_outbox_pending', "Messages waiting in connected agents' outboxes (sum of their latest heartbeats).", () => sources.agentOutbox().pending);
    gauge('agent_messages_dropped', 'Messages connected agents report having dropped from a full outbox (sum of the counters in their latest heartbeats).', () => sources.agentOutbox().dropped);

    this.ingestMessages = new Counter({ name: `${PREFIX}ingest_messages_total`, help: 'Agent messages committed by ingest: stored, duplicate (already stored) or rejected (recorded with its reason).', labelNames: ['result'], registers });
    for (const result of ['stored', 'duplicate', 'rejected']) this.ingestMessages.inc({ result }, 0);
    this.ingestBatchSeconds = new Histogram({
      name: `${PREFIX}ingest_batch_seconds`,
      help: 'Time to write and commit one ingest batch (one SQLite transaction).',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.ingestBatchSize = new Histogram({
      name: `${PREFIX}ingest_batch_size`,
      help: 'Messages (and rejections) per ingest batch.',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
      registers,
    });
    this.ingestFailedBatches = new Counter({ name: `${PREFIX}ingest_failed_batches_total`, help: 'Ingest batches whose transaction failed (nothing stored or acked; agents resend).', registers });
    gauge('ingest_queue_length', 'Messages waiting for the next ingest batch.', () => sources.ingestQueueLength());

    new Gauge({
      name: `${PREFIX}alerts_open`,
      help: 'Open and acknowledged (not yet resolved) alerts, by rule and severity.',
      labelNames: ['rule', 'severity'],
      registers,
      collect() {
        this.reset();
        for (const rule of RULE_IDS) for (const severity of SEVERITIES) this.set({ rule, severity }, 0);
        for (const r of sources.openAlerts()) this.set({ rule: r.rule, severity: r.severity }, r.n);
      },
    });
    this.alertChanges = new Counter({ name: `${PREFIX}alert_changes_total`, help: 'Committed alert changes, by action.', labelNames: ['action'], registers });
    for (const action of ALERT_ACTIONS) this.alertChanges.inc({ action }, 0);
    let failuresPublished = 0;
    new Counter({
      name: `${PREFIX}policy_evaluation_failures_total`,
      help: 'Policy evaluations that failed and were rolled back (see the error log).',
      registers,
      collect() {
        const n = sources.policyEvaluationFailures();
        if (n > failuresPublished) this.inc(n - failuresPublished);
        failuresPublished = n;
      },
    });
    gauge('policy_reevaluation_backlog', 'Hosts waiting to be judged again after a policy, approval or exception change.', () => sources.policyBacklog());
    gauge('alert_feed_subscribers', 'Live alert feed subscribers.', () => sources.alertFeedSubscribers());
    new Gauge({
      name: `${PREFIX}notification_deliveries`,
      help: 'Notification deliveries in the queue, by status.',
      labelNames: ['status'],
      registers,
      collect() {
        const counts = sources.notificationDeliveries();
        for (const status of DELIVERY_STATUSES) this.set({ status }, counts[status]);
      },
    });
    this.httpRequests = new Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by method, route pattern ((unmatched) for none) and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text: this app's metrics and the process's. */
  async scrape(): Promise<string> {
    const [own, proc] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return `${own}\n${proc}`;
  }

  // --- ConnectionMetrics (per frame)

  frameReceived(type: string | undefined): void {
    this.framesReceived.add(type);
  }

  frameRejected(code: ErrorCode): void {
    this.framesRejected.add(code);
  }

  frameSent(type: CollectorMessageType): void {
    this.framesSent.add(type);
  }

  /** What a gateway worker process counted since it last reported (its frames never pass through here). */
  frameCounts(counts: FrameCounts): void {
    for (const [type, n] of Object.entries(counts.received)) this.framesReceived.add(type === '' ? undefined : type, n);
    for (const [code, n] of Object.entries(counts.rejected)) this.framesRejected.add(code, n);
    for (const [type, n] of Object.entries(counts.sent)) this.framesSent.add(type, n);
    for (const [reason, n] of Object.entries(counts.dropped ?? {})) this.connectionsDropped.inc({ reason }, n);
  }

  // --- agent connections

  agentConnected(): void {
    this.agentConnections.inc();
  }

  agentDisconnected(): void {
    this.agentDisconnections.inc();
  }

  // --- IngestMetrics (per batch)

  batchCommitted(b: BatchOutcome): void {
    this.ingestBatchSeconds.observe(b.seconds);
    this.ingestBatchSize.observe(b.size);
    if (b.stored) this.ingestMessages.inc({ result: 'stored' }, b.stored);
    if (b.duplicates) this.ingestMessages.inc({ result: 'duplicate' }, b.duplicates);
    if (b.rejected) this.ingestMessages.inc({ result: 'rejected' }, b.rejected);
  }

  batchFailed(): void {
    this.ingestFailedBatches.inc();
  }

  // --- alerts

  alertChanged(action: AlertAction): void {
    this.alertChanges.inc({ action });
  }

  // --- HTTP

  /** One answered request; `route` is the route's pattern, never the raw URL. */
  httpResponse(method: string, route: string, status: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
  }
}
