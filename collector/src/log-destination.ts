/**
 * Where the collector's log lines go (stdout), written so that logging can never stop the
 * process: writes are asynchronous, at most `maxBytes` wait in memory (beyond that lines are
 * dropped and counted), and a reader that went away (EPIPE) ends logging instead of the process.
 *
 * Why: pino's default destination (sonic-boom) flushes synchronously at exit, and a synchronous
 * write to a pipe whose reader is gone or no longer reads blocks in write(2), or in sonic-boom's
 * flushSync retries in a loop of Atomics.wait, forever. A collector spawned with stdout piped by
 * a parent that stopped reading then ignored SIGTERM, twice: its exit handler never returned
 * (test/stdout-lost-reader.test.ts). With gateway workers it was worse: a worker forked with the
 * same stdout made the shared pipe blocking again (libuv clears O_NONBLOCK on a child's stdio),
 * so they get pipes of their own and the main process forwards their lines (`forwardLines`).
 */
export class LogDestination {
  private broken = false;
  private idle: (() => void)[] = [];
  /** Writes dropped because `maxBytes` were already waiting, or because the reader went away. */
  dropped = 0;

  constructor(
    private readonly out: NodeJS.WritableStream & { writableLength?: number } = process.stdout,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {
    out.on('error', () => {
      // EPIPE (the reader went away) or worse: logging ends here, the process carries on.
      this.broken = true;
      this.notifyIdle();
    });
    out.on('drain', () => this.notifyIdle());
  }

  write(chunk: string): boolean {
    if (this.broken || (this.out.writableLength ?? 0) > this.maxBytes) {
      this.dropped++;
      return true;
    }
    try {
      this.out.write(chunk);
    } catch {
      this.broken = true;
      this.dropped++;
    }
    return true;
  }

  /** Resolves once everything queued is written, the reader is gone, or `timeoutMs` passed. */
  flush(timeoutMs: number): Promise<void> {
    if (this.settled()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      // 'drain' is only emitted after a write was refused; a short poll covers the rest.
      const poll = setInterval(() => this.settled() && done(), 20);
      this.idle.push(() => this.settled() && done());
    });
  }

  private settled(): boolean {
    return this.broken || (this.out.writableLength ?? 0) === 0;
  }

  private notifyIdle(): void {
    for (const check of this.idle.splice(0)) check();
  }
}

let stdoutDestination: LogDestination | undefined;
let stderrDestination: LogDestination | undefined;

/** This process's stdout as a LogDestination (one per process, shared by the logger and forwarded worker output). */
export function processStdout(): LogDestination {
  return (stdoutDestination ??= new LogDestination(process.stdout));
}

export function processStderr(): LogDestination {
  return (stderrDestination ??= new LogDestination(process.stderr));
}

/** Forwards whole lines read from `from` (a child's stdout or stderr) to `to`, never holding up the child. */
export function forwardLines(from: NodeJS.ReadableStream, to: LogDestination): void {
  let partial = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const end = chunk.lastIndexOf('\n');
    if (end < 0) {
      partial += chunk;
      // A line longer than 1 MiB without a newline is not a log line worth holding.
      if (partial.length > 1024 * 1024) partial = '';
      return;
    }
    to.write(partial + chunk.slice(0, end + 1));
    partial = chunk.slice(end + 1);
  });
  from.on('end', () => {
    if (partial) to.write(`${partial}\n`);
    partial = '';
  });
  from.on('error', () => {});
}
