#!/usr/bin/env node
// Installed entry point: runs the compiled CLI (`npm run build` / `prepare` produce dist/).
import '../dist/cli/main.js';
