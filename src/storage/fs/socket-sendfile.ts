import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { giveBack, takeBuffer } from './copy-buffers.ts';
import type { LibcSendfile } from './libc-sendfile.ts';

/** A response whose body may go straight from a file to its socket's descriptor. */
export interface SendfileTarget {
  res: ServerResponse;
  socket: Socket;
  fd: number;
}

/** The span of a file a body still has to send; `FileBody` implements it. */
export interface FileCursor {
  readonly fd: number;
  readonly position: number;
  /** Bytes to send next, at most `wanted`; 0 once the span is done. */
  nextLength(wanted: number): number;
  /** Records `bytes` sent from the current position; 0 means the file ended (an error if the span has an end). */
  advance(bytes: number): void;
  /** Reads into `buffer` at the current position and advances past what it read. */
  readChunk(buffer: Buffer): Promise<Buffer>;
}

/** One sendfile call moves at most this much, so a read from a slow disk holds a pool thread for a bounded time. */
const SEND_MAX = 16 * 1024 * 1024;
/**
 * What goes through the socket's own write when it is full (below). Small, because it is the copied part; large
 * enough that libuv's wait for room is a small share of the time.
 */
const HANDOFF = 256 * 1024;
/**
 * sendfile calls queued on the libuv pool at once, across all downloads. Past it a download writes its next chunk
 * through the socket instead: koffi refuses async calls beyond its own queue limit, and every queued call holds
 * one of its memory blocks.
 */
const MAX_IN_FLIGHT = 64;
let inFlight = 0;

/**
 * A plain-TCP response of known length that owns its socket: a TLS socket has no descriptor to write cleartext
 * to, a chunked body needs framing between the bytes, and a response queued behind a pipelined one has no socket
 * yet. Headers must have been given (`writeHead`) so they can be flushed before the first byte.
 */
export function sendfileTarget(dest: Writable): SendfileTarget | undefined {
  if (!(dest instanceof ServerResponse) || !dest.headersSent || dest.chunkedEncoding) return undefined;
  const socket = dest.socket;
  if (socket === null || socket instanceof TLSSocket || socket.destroyed || !socket.writable) return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? { res: dest, socket, fd } : undefined;
}

/**
 * Sends the rest of `file` on the target's socket with sendfile(2): the kernel moves page-cache pages to the
 * socket, and no byte is copied through JavaScript. The socket is non-blocking (libuv's), so a call sends what
 * fits and the rest waits for room. Waiting is left to libuv rather than a pool thread parked in poll(2): the
 * next `HANDOFF` bytes are read and written through the socket as usual, and sendfile resumes once libuv has
 * flushed them. A fast reader thus gets nearly every byte by sendfile, a slow one mostly by plain writes, and no
 * thread is held while a client does not read.
 *
 * The socket's descriptor is duplicated first: a client that disconnects makes Node close its descriptor, and its
 * number could be reused for another file while a call is queued; ours stays the same socket until we close it.
 * Resolves once every byte is in the kernel (the caller then ends the response); rejects if the client goes away.
 */
export async function sendFileTo(target: SendfileTarget, file: FileCursor, libc: LibcSendfile): Promise<void> {
  const { res, socket } = target;
  res.flushHeaders();
  await writeThrough(socket, Buffer.alloc(0)); // the head is in the kernel, ahead of the first sent byte
  const fd = libc.dup(target.fd);
  if (fd < 0) throw new Error(`cannot duplicate the socket descriptor (errno ${-fd})`);
  let sendfileWorks = true;
  try {
    while (file.nextLength(SEND_MAX) > 0) {
      if (socket.destroyed) throw new Error('client closed the connection');
      let full = !sendfileWorks || inFlight >= MAX_IN_FLIGHT;
      if (!full) {
        const wanted = file.nextLength(SEND_MAX);
        inFlight++;
        const sent = await libc.send(fd, file.fd, file.position, wanted).finally(() => inFlight--);
        if (sent >= 0) {
          file.advance(sent);
          // A short send means the socket's buffer filled up: the next call would only find it full.
          full = sent > 0 && sent < wanted;
        } else if (-sent === libc.errno.EAGAIN) {
          full = true;
        } else if (-sent !== libc.errno.EINTR) {
          if (socket.destroyed) throw new Error('client closed the connection');
          // EPIPE and ECONNRESET: the client went away, which the socket's own write reports below.
          // Anything else (a filesystem that cannot sendfile): the rest goes through plain writes.
          sendfileWorks = false;
          full = true;
        }
      }
      if (full && file.nextLength(HANDOFF) > 0) await handOff(socket, file);
    }
  } finally {
    libc.close(fd);
  }
}

/** Reads the next piece into a reused buffer and writes it through the socket, waiting until it is flushed. */
async function handOff(socket: Socket, file: FileCursor): Promise<void> {
  const buffer = takeBuffer();
  const chunk = await file.readChunk(buffer.subarray(0, file.nextLength(HANDOFF)));
  if (chunk.length > 0) await writeThrough(socket, chunk);
  giveBack(buffer); // flushed: nothing refers to it now (after a failure it is left to the collector)
}

/** Resolves once `chunk` (and everything written before it) has reached the kernel; rejects if the socket closes. */
function writeThrough(socket: Socket, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const closed = (): void => reject(new Error('client closed the connection'));
    socket.once('close', closed);
    socket.write(chunk, (err) => {
      socket.off('close', closed);
      if (err) reject(err);
      else resolve();
    });
  });
}
