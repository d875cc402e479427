import type { Readable, Transform } from 'node:stream';

/**
 * Pipes a stream this module does not own (a request body) into `into`, with backpressure. When `into` fails
 * (a size limit, a storage error) the source is detached and drained instead of destroyed, so the caller can
 * still answer on the same connection; when the source fails (client gone), `into` fails with it.
 */
export function feedFrom(source: Readable, into: Transform): void {
  const onSourceError = (err: Error) => into.destroy(err);
  source.once('error', onSourceError);
  source.once('aborted', () => into.destroy(new Error('request aborted')));
  into.once('error', () => {
    source.off('error', onSourceError);
    source.unpipe(into);
    source.resume();
  });
  into.once('finish', () => source.off('error', onSourceError));
  source.pipe(into);
}
