/**
 * `npm run build` (also run by `npm ci` through `prepare`): bundles the `edgefleet` CLI into
 * one ES module, dist/edgefleet.js, so the command starts with plain `node` instead of a
 * TypeScript loader (package.json `bin.edgefleet` points at it). Dependencies are bundled too:
 * one file parses faster than hundreds of node_modules files.
 */
import { chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const CLI_BUNDLE = fileURLToPath(new URL('../dist/edgefleet.js', import.meta.url));

const started = performance.now();
const result = await build({
  entryPoints: [fileURLToPath(new URL('./edgefleet.ts', import.meta.url))],
  outfile: CLI_BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  // Names kept so stack traces in bug reports stay readable.
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  // CommonJS dependencies (commander) call require() for node builtins.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __edgefleetRequire } from 'node:module';\nconst require = __edgefleetRequire(import.meta.url);" },
});
chmodSync(CLI_BUNDLE, 0o755);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`built ${CLI_BUNDLE} (${(bytes / 1024).toFixed(0)} KiB) in ${Math.round(performance.now() - started)} ms`);
