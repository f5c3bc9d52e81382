import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { splitOctetFrames } from './syslog-parse.js';

// Real receivers on 127.0.0.1 for notification tests: an HTTP server, a UDP syslog socket and a
// TCP syslog server reading RFC 6587 octet-counted frames.

/** Poll `probe` until it returns something truthy; fail after `timeoutMs`. */
export async function until<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP receiver: `/ok` answers 204, `/flaky` 500 twice then 200, `/slow` never answers. */
export async function startHttpReceiver() {
  const requests: Received[] = [];
  const hanging: http.ServerResponse[] = [];
  let flaky = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url === '/slow') return void hanging.push(res);
      if (req.url === '/flaky' && ++flaky <= 2) return void res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream\nbroke');
      if (req.url === '/moved') return void res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
      res.writeHead(req.url === '/ok' ? 204 : 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    hanging,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function startUdpReceiver() {
  const messages: string[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (m) => messages.push(m.toString('utf8')));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { port: socket.address().port, messages, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

export async function startTcpReceiver() {
  const frames: string[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      const split = splitOctetFrames(Buffer.concat([buf, d]));
      frames.push(...split.frames);
      buf = split.rest;
    });
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    frames,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
