#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4 --max-old-space-size=192
// Installed entry point: runs the compiled CLI (`npm run build` / `prepare` produce dist/). The environment and the
// V8 flags above are the server's memory policy, `src/runtime/memory-policy.ts` (SERVER_ENVIRONMENT,
// SERVER_NODE_FLAGS), which says why each is there; its test keeps this line and `npm start` in step with it.
import '../dist/cli/main.js';
