import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = (options: { type: 'minor'; execution: 'async' }) => void;

let collect: Collect | undefined;

/** V8's `gc`, which is not exposed by default: enabling the flag at run time makes a new context offer it. */
function collector(): Collect {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as Collect;
    } catch {
      collect = () => {};
    }
  }
  return collect;
}

/**
 * A counter of consumed request-body bytes that asks V8 for a young-generation collection every `everyBytes`.
 * Upload bodies reach the server as one fresh 64 KiB buffer per socket read (the HTTP parser copies each chunk);
 * they live outside the JavaScript heap, so they do not fill the young generation and V8 frees them only once
 * about 64 MiB have piled up. A collection of the small young generation takes about 0.1 ms.
 */
export function youngCollections(everyBytes: number, run: Collect = collector()): (bytes: number) => void {
  let sinceLast = 0;
  return (bytes) => {
    sinceLast += bytes;
    if (sinceLast < everyBytes) return;
    sinceLast = 0;
    run({ type: 'minor', execution: 'async' });
  };
}
