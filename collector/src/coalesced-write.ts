import type { Writable } from 'node:stream';

const corked = new WeakSet<Writable>();

/**
 * Writes `chunk` to `stream`, gathering every write made to it in the same tick into one system
 * call: the stream is corked at the first and uncorked at the next tick. Each write(2) to a pipe
 * cost ~0.1 ms of the main process here, and with gateway workers every agent that connects means
 * several (its token's verdict, its config, acks): 5.9 % of the main process's time in a
 * 10,000-agent ramp went to `writeUtf8String` (`node bench/fleet.mjs 10000 --cpu-prof`), most of
 * it on the workers' pipes (the rest: the log line of each hello, which stays a write of its own).
 * The order of writes is kept; the caller's backpressure signal is `stream.write`'s. Not for
 * anything written just before a synchronous `process.exit` (a corked chunk would be lost).
 */
export function writeCoalesced(stream: Writable, chunk: string): boolean {
  if (!corked.has(stream) && !stream.destroyed) {
    corked.add(stream);
    stream.cork();
    process.nextTick(uncork, stream);
  }
  return stream.write(chunk);
}

function uncork(stream: Writable): void {
  corked.delete(stream);
  stream.uncork();
}
