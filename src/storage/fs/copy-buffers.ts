/** Read size for blob bodies: far fewer syscalls and socket writes per byte than the 64 KiB stream default. */
export const CHUNK = 512 * 1024;

/**
 * Copy buffers kept for the next downloads (8 MiB). Each is a 512 KiB allocation outside the JavaScript heap that
 * V8 frees only at its next collection, so fresh ones per download pile up in resident memory under load.
 */
const spare: Buffer[] = [];
const SPARE_LIMIT = 16;

export function takeBuffer(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

/** Only for a buffer nothing refers to any more: no write still pending on it. */
export function giveBack(buffer: Buffer): void {
  if (spare.length < SPARE_LIMIT) spare.push(buffer);
}
