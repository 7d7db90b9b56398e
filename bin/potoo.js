#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm install`).
import('../dist/runtime/cli/main.js').then((m) => m.main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`potoo: ${err instanceof Error ? err.message : String(err)}\n`); process.exitCode = 70; },
);
