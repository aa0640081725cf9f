import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesizeTemplate } from '../lib/synth.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Everything the synthesized template is built from. */
const INPUTS = ['lib', 'lambdas/contracts', 'package-lock.json'];

function walk(p: string, out: string[]): void {
  const st = statSync(p);
  if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(path.join(p, e), out);
  else out.push(p);
}

/** A digest of lib/ and the contracts: any change there means a new synthesis. */
export function sourceDigest(): string {
  const files: string[] = [];
  for (const i of INPUTS) { const p = path.join(ROOT, i); if (existsSync(p)) walk(p, files); }
  const h = createHash('sha256');
  for (const f of files) h.update(path.relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

/**
 * The synthesized template, reused from `cacheFile` while lib/ and the contracts are unchanged
 * (synthesis costs seconds on a small machine), synthesized afresh otherwise.
 */
export function cachedTemplate(cacheFile: string): Record<string, any> {
  const digest = sourceDigest();
  if (existsSync(cacheFile)) {
    try {
      const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { digest: string; template: Record<string, any> };
      if (cached.digest === digest) return cached.template;
    } catch { /* unreadable cache: synthesize again */ }
  }
  const template = synthesizeTemplate();
  writeFileSync(cacheFile, JSON.stringify({ digest, template }));
  return template;
}
