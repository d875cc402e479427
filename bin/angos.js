#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4 --max-old-space-size=192
// Installed entry point: runs the compiled CLI (`npm run build` / `prepare` produce dist/).
// V8 limits (README, "Memory"): by default the young generation grows to 64 MiB semi-spaces under load and the old
// generation to a few times the live heap (20-25 MiB) before collecting; these keep a busy server near 150 MiB.
// Manifest parsing, the only large heap use, is bounded to 16 MiB of manifests at once (src/http/handlers/manifests.ts).
// MALLOC_ARENA_MAX=2: glibc would give each busy thread (libuv pool, V8 helpers) its own malloc arena, ~10 MiB in all.
import '../dist/cli/main.js';
