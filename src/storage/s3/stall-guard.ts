import { Readable } from 'node:stream';

export class StalledStreamError extends Error {
  constructor(ms: number) {
    super(`S3 download stalled: no bytes for ${ms} ms`);
    this.name = 'StalledStreamError';
  }
}

/**
 * Wraps a download so that it fails when no byte arrives for `ms` while the consumer is waiting for one
 * (`operation_attempt_timeout_secs` also bounds a stalled download). Time spent paused by backpressure never
 * counts, so a slow client is not mistaken for a stalled server.
 */
export function guardStalls(source: Readable, ms: number): Readable {
  let timer: NodeJS.Timeout | undefined;
  const disarm = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const guarded = new Readable({
    read() {
      disarm();
      timer = setTimeout(() => guarded.destroy(new StalledStreamError(ms)), ms);
      source.resume();
    },
    destroy(err, callback) {
      disarm();
      source.destroy();
      callback(err);
    },
  });
  source.pause();
  source.on('data', (chunk: Buffer) => {
    disarm();
    if (!guarded.push(chunk)) source.pause();
  });
  source.once('end', () => {
    disarm();
    guarded.push(null);
  });
  source.once('error', (err) => guarded.destroy(err));
  return guarded;
}
