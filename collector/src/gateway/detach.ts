import type { Socket } from 'node:net';

/** A socket's OS handle (libuv TCP wrap), detached from its net.Socket, as `child.send` passes it. */
export interface NativeHandle {
  reading?: boolean;
  readStop(): number;
  close(): void;
}

/**
 * Takes a connection's socket apart to pass it to another process: stops this process reading it,
 * keeps what it had read (`head` plus anything buffered since), detaches the OS handle and destroys
 * the now handle-less socket, so this process's HTTP server (if any) counts the connection closed
 * here (it lives on in the other process). Node discards what a socket reads while its handle is
 * being sent, and its own socket-passing ties a server's close to the receiving process: this avoids
 * both (an agent's hello, sent the moment the 101 arrives, would otherwise be lost now and then).
 * The caller closes the handle once it has been sent (or could not be).
 */
export function detachSocket(socket: Socket, head: Buffer): { handle: NativeHandle; head: Buffer } | undefined {
  const buffered = socket.readableLength > 0 ? (socket.read(socket.readableLength) as Buffer | null) : null;
  const s = socket as unknown as { _handle: NativeHandle | null };
  const handle = s._handle;
  if (!handle) return undefined;
  handle.reading = false;
  handle.readStop();
  s._handle = null;
  socket.destroy();
  return { handle, head: buffered ? Buffer.concat([head, buffered]) : head };
}
