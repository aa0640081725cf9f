import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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
 * The tests' cache, inside this checkout (`node_modules/.cache`, never committed). Not in the
 * shared temporary directory: two checkouts on one machine (a worktree, a clean clone) with the
 * same sources but different module states must not hand each other a template.
 */
export const CHECKOUT_TEMPLATE_CACHE = path.join(ROOT, 'node_modules', '.cache', 'edgefleet', 'template-cache.json');

/**
 * The synthesized template, reused from `cacheFile` while lib/ and the contracts are unchanged
 * (synthesis costs seconds on a small machine), synthesized afresh otherwise. A template is
 * cached only when the sources did not change while it was synthesized (the digest is taken
 * before and after), and written whole (temporary file, then rename), so a concurrent reader
 * never sees half of one and an edit during a run never stores a template under the wrong digest.
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
  if (sourceDigest() === digest) {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ digest, template }));
    renameSync(tmp, cacheFile);
  }
  return template;
}
