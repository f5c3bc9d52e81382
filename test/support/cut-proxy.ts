import net from 'node:net';

/**
 * A TCP proxy on loopback between agents and a collector that can cut the network: `blackhole`
 * stops carrying bytes but keeps every connection open (a half-dead link: the agent believes it is
 * connected, nothing is acknowledged), `refuse` closes them all and refuses new ones, `pass`
 * carries bytes again.
 */
export interface CutProxy {
  readonly url: string;
  mode: 'pass' | 'blackhole' | 'refuse';
  setMode(mode: 'pass' | 'blackhole' | 'refuse'): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startCutProxy(target: { host: string; port: number }): Promise<CutProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket | undefined }>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    client.on('error', () => {});
    if (proxy.mode === 'refuse') return void client.destroy();
    const pair: { client: net.Socket; upstream: net.Socket | undefined } = { client, upstream: undefined };
    pairs.add(pair);
    client.on('close', () => {
      pairs.delete(pair);
      pair.upstream?.destroy();
    });
    if (proxy.mode === 'blackhole') return void client.pause();
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const proxy: CutProxy = {
    url: `http://127.0.0.1:${port}`,
    mode: 'pass',
    get accepted() {
      return accepted;
    },
    setMode(mode) {
      proxy.mode = mode;
      for (const p of pairs) {
        if (mode === 'refuse') {
          p.client.destroy();
          p.upstream?.destroy();
        } else if (mode === 'blackhole') {
          // Nothing more is carried either way; the sockets stay open.
          p.client.unpipe();
          p.upstream?.unpipe();
          p.client.pause();
          p.upstream?.pause();
        }
      }
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
