import { AGENT_MESSAGE_TYPES, DROPPABLE_TYPES, type AgentMessageType } from '@vigil/shared/agent';

/**
 * Where each pending (un-acknowledged) record sits on disk, in seq order, without its body.
 * Columns of typed arrays hold seq (8 bytes), byte offset in its segment (4), record length (4)
 * and message type (1): 17 bytes per pending message plus slack from doubling. The segment a
 * record is in follows from its seq (segments are named by their first seq), so it is not stored.
 */

const TYPE_CODE = new Map<AgentMessageType, number>(AGENT_MESSAGE_TYPES.map((t, i) => [t, i]));
const DROPPABLE = new Set<AgentMessageType>(DROPPABLE_TYPES);
const INITIAL_CAPACITY = 1024;

export interface IndexEntry {
  seq: number;
  type: AgentMessageType;
  /** Byte offset of the record in its segment file. */
  offset: number;
  /** Length of the whole record on disk (CRC, tab, JSON, newline). */
  length: number;
}

export class PendingIndex {
  private seqs = new Float64Array(INITIAL_CAPACITY);
  private offsets = new Uint32Array(INITIAL_CAPACITY);
  private lengths = new Uint32Array(INITIAL_CAPACITY);
  private types = new Uint8Array(INITIAL_CAPACITY);
  /** Slot of the oldest entry; slots before it are free (acknowledged). */
  private head = 0;
  private size = 0;
  private totalBytes = 0;
  private droppable = 0;

  /** Number of pending records. */
  get count(): number {
    return this.size;
  }

  /** Sum of the on-disk lengths of the pending records. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Number of pending records of a type the outbox may drop. */
  get droppableCount(): number {
    return this.droppable;
  }

  /** Adds a record; seqs must arrive in increasing order. */
  push(e: IndexEntry): void {
    const last = this.size > 0 ? this.seqAt(this.size - 1) : 0;
    if (e.seq <= last) throw new Error(`outbox index: seq ${e.seq} is not after ${last}`);
    if (this.head + this.size === this.seqs.length) this.makeRoom();
    const slot = this.head + this.size;
    this.seqs[slot] = e.seq;
    this.offsets[slot] = e.offset;
    this.lengths[slot] = e.length;
    this.types[slot] = TYPE_CODE.get(e.type) ?? 0;
    this.size++;
    this.totalBytes += e.length;
    if (DROPPABLE.has(e.type)) this.droppable++;
  }

  /** The i-th pending record, oldest first (0 <= i < count). */
  at(i: number): IndexEntry {
    const slot = this.slot(i);
    return {
      seq: this.seqs[slot] ?? 0,
      type: AGENT_MESSAGE_TYPES[this.types[slot] ?? 0] ?? 'heartbeat',
      offset: this.offsets[slot] ?? 0,
      length: this.lengths[slot] ?? 0,
    };
  }

  seqAt(i: number): number {
    return this.seqs[this.slot(i)] ?? 0;
  }

  isDroppableAt(i: number): boolean {
    const type = AGENT_MESSAGE_TYPES[this.types[this.slot(i)] ?? 0];
    return type !== undefined && DROPPABLE.has(type);
  }

  /** Moves the i-th record (after its segment was rewritten). */
  setOffset(i: number, offset: number): void {
    this.offsets[this.slot(i)] = offset;
  }

  /** Position of the first record with seq > `seq` (count if none). */
  firstAfter(seq: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqAt(mid) <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Removes every record with seq <= `seq`; returns them oldest first. */
  removeThrough(seq: number): IndexEntry[] {
    const n = this.firstAfter(seq);
    const removed: IndexEntry[] = [];
    for (let i = 0; i < n; i++) removed.push(this.at(i));
    for (const e of removed) this.forget(e);
    this.head += n;
    this.size -= n;
    if (this.size === 0) this.reset();
    return removed;
  }

  /** Removes the records whose seqs are in `seqs`, keeping the order of the rest. */
  removeSeqs(seqs: ReadonlySet<number>): void {
    let out = this.head;
    const end = this.head + this.size;
    for (let slot = this.head; slot < end; slot++) {
      const seq = this.seqs[slot] ?? 0;
      if (seqs.has(seq)) {
        this.forget(this.at(slot - this.head));
        continue;
      }
      if (out !== slot) {
        this.seqs[out] = seq;
        this.offsets[out] = this.offsets[slot] ?? 0;
        this.lengths[out] = this.lengths[slot] ?? 0;
        this.types[out] = this.types[slot] ?? 0;
      }
      out++;
    }
    this.size = out - this.head;
    if (this.size === 0) this.reset();
  }

  /** Empties the index and gives back the memory a large backlog needed. */
  private reset(): void {
    this.head = 0;
    if (this.seqs.length === INITIAL_CAPACITY) return;
    this.seqs = new Float64Array(INITIAL_CAPACITY);
    this.offsets = new Uint32Array(INITIAL_CAPACITY);
    this.lengths = new Uint32Array(INITIAL_CAPACITY);
    this.types = new Uint8Array(INITIAL_CAPACITY);
  }

  private forget(e: IndexEntry): void {
    this.totalBytes -= e.length;
    if (DROPPABLE.has(e.type)) this.droppable--;
  }

  private slot(i: number): number {
    if (i < 0 || i >= this.size) throw new RangeError(`outbox index: position ${i} out of 0..${this.size - 1}`);
    return this.head + i;
  }

  /** Reuses the free slots at the front, or doubles the columns when more than half are in use. */
  private makeRoom(): void {
    const end = this.head + this.size;
    if (this.head > 0 && this.size <= this.seqs.length / 2) {
      this.seqs.copyWithin(0, this.head, end);
      this.offsets.copyWithin(0, this.head, end);
      this.lengths.copyWithin(0, this.head, end);
      this.types.copyWithin(0, this.head, end);
      this.head = 0;
      return;
    }
    const capacity = this.seqs.length * 2;
    const seqs = new Float64Array(capacity);
    const offsets = new Uint32Array(capacity);
    const lengths = new Uint32Array(capacity);
    const types = new Uint8Array(capacity);
    seqs.set(this.seqs.subarray(this.head, end));
    offsets.set(this.offsets.subarray(this.head, end));
    lengths.set(this.lengths.subarray(this.head, end));
    types.set(this.types.subarray(this.head, end));
    this.seqs = seqs;
    this.offsets = offsets;
    this.lengths = lengths;
    this.types = types;
    this.head = 0;
  }
}
