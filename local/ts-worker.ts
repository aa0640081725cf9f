/**
 * Starts a thread that runs one of local/'s TypeScript modules. A worker thread inherits neither
 * the main thread's `--import tsx` nor jest's transform, so the thread registers tsx's loader
 * itself before it imports the module. A module that does not load is reported as the thread's
 * `{ type: 'failed', message }` message.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const TSX_API = (() => {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(path.join(path.dirname(manifest), pkg.exports['./esm/api']!.import.default)).href;
})();
const BOOT = `const { parentPort, workerData } = require('node:worker_threads');
import(workerData.tsx).then(({ register }) => { register(); return import(workerData.thread); })
  .catch((e) => parentPort.postMessage({ type: 'failed', message: 'the thread did not load: ' + (e && e.message) }));`;

/** `module` is the thread's file (a URL); `data` its `workerData` (plain data). */
export function startTsWorker(module: URL, data: object): Worker {
  return new Worker(BOOT, { eval: true, execArgv: [], workerData: { ...data, tsx: TSX_API, thread: module.href } });
}
