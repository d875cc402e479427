/**
 * `sendfile(2)` from libc, which Node's public API does not offer, through the `koffi` FFI package. Loaded on the
 * first download that can use it, so a server that never serves a filesystem blob over plain TCP never maps it;
 * where it cannot load (not Linux with glibc, the package missing) downloads keep the buffered copy.
 */
export interface LibcSendfile {
  /**
   * `sendfile(out, in, &offset, count)` on a libuv pool thread, so a read from a cold disk never stalls the event
   * loop; resolves with the bytes sent, or `-errno`. Reads the file at `offset` without moving its position.
   */
  send(outFd: number, inFd: number, offset: number, count: number): Promise<number>;
  /** `fcntl(fd, F_DUPFD_CLOEXEC)`: a descriptor of our own for the same socket, or `-errno`. */
  dup(fd: number): number;
  close(fd: number): void;
  readonly errno: { EAGAIN: number; EINTR: number };
}

const F_DUPFD_CLOEXEC = 1030;

let loading: Promise<LibcSendfile | undefined> | undefined;

export function libcSendfile(): Promise<LibcSendfile | undefined> {
  loading ??= load().catch(() => undefined);
  return loading;
}

async function load(): Promise<LibcSendfile | undefined> {
  if (process.platform !== 'linux') return undefined;
  const { default: koffi } = await import('koffi');
  const libc = koffi.load('libc.so.6');
  const sendfile = libc.func('intptr_t sendfile(int out_fd, int in_fd, _Inout_ int64_t *offset, size_t count)');
  const fcntl = libc.func('int fcntl(int fd, int cmd, ...)');
  const close = libc.func('int close(int fd)');
  const codes = koffi.os.errno;
  return {
    send: (outFd, inFd, offset, count) =>
      new Promise((resolve, reject) => {
        // The callback runs with the worker's errno restored, so it must be read here, before any await.
        sendfile.async(outFd, inFd, [offset], count, (err: unknown, sent: number) => {
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else resolve(sent >= 0 ? sent : -koffi.errno());
        });
      }),
    dup: (fd) => {
      const copy = fcntl(fd, F_DUPFD_CLOEXEC, 'int', 0) as number;
      return copy >= 0 ? copy : -koffi.errno();
    },
    close: (fd) => {
      close(fd);
    },
    errno: { EAGAIN: codes.EAGAIN!, EINTR: codes.EINTR! },
  };
}
