import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Upload bodies reach us as one fresh 64 KiB buffer per socket read (the HTTP parser copies each chunk). The
 * buffers live outside the JavaScript heap, so they do not fill the young generation: V8 frees them only once
 * about 64 MiB of them have piled up. Asking for a young-generation collection every `EVERY_BYTES` consumed
 * keeps that pile small; a collection of the small young generation takes about 0.1 ms.
 */
const EVERY_BYTES = 4 * 1024 * 1024;

type Collect = (options: { type: 'minor'; execution: 'async' }) => void;

let collect: Collect | undefined;
let sinceLast = 0;

function collector(): Collect {
  if (collect === undefined) {
    try {
      // `gc` is not exposed by default; enabling the flag at run time makes a new context offer it.
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as Collect;
    } catch {
      collect = () => {};
    }
  }
  return collect;
}

/** Records that `bytes` of a request body have been consumed (written out and dropped). */
export function bodyBytesConsumed(bytes: number): void {
  sinceLast += bytes;
  if (sinceLast < EVERY_BYTES) return;
  sinceLast = 0;
  collector()({ type: 'minor', execution: 'async' });
}
