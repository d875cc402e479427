// RFC 3339 UTC with microseconds, as the original printed. Date only has milliseconds, so the
// sub-millisecond digits come from the monotonic clock anchored to the wall clock.

let anchor = performance.timeOrigin;

function nowMicros(): number {
  const monotonic = performance.now();
  let now = anchor + monotonic;
  const wall = Date.now();
  // Follow wall-clock steps (NTP, suspend) instead of drifting away from them for the process lifetime.
  if (Math.abs(now - wall) > 1000) {
    anchor = wall - monotonic;
    now = wall;
  }
  return Math.floor(now * 1000);
}

export function currentTimestamp(): string {
  const micros = nowMicros();
  const millis = Math.floor(micros / 1000);
  const iso = new Date(millis).toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ
  const extra = String(micros % 1000).padStart(3, '0');
  return `${iso.slice(0, -1)}${extra}Z`;
}
