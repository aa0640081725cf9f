import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * "No import cycles": the shipped code (everything but tests and benchmarks) has no circular
 * import, type-only imports included — the same check as
 * `madge --circular --extensions ts --ts-config tsconfig.json lambdas local lib device cli bin simulator`.
 */

/** The part of madge's API used here (madge ships no types). */
interface MadgeResult {
  obj(): Record<string, string[]>;
  circular(): string[][];
  warnings(): { skipped: string[] };
}
type Madge = (paths: string[], config: { baseDir: string; fileExtensions: string[]; tsConfig: string }) => Promise<MadgeResult>;
const madge = createRequire(import.meta.url)('madge') as Madge;

const ROOT = path.resolve('.');
const FOLDERS = ['lambdas', 'local', 'lib', 'device', 'cli', 'bin', 'simulator'];

describe('import cycles (madge)', () => {
  let graph: MadgeResult;
  beforeAll(async () => {
    // tsConfig: the specifiers name `.js` files; madge resolves them to the `.ts` sources the
    // way the compiler does (NodeNext).
    graph = await madge(FOLDERS.map((f) => path.join(ROOT, f)), {
      baseDir: ROOT, fileExtensions: ['ts'], tsConfig: path.join(ROOT, 'tsconfig.json'),
    });
  });

  it('resolves every relative import (an unresolved one would hide its cycles)', () => {
    expect(graph.warnings().skipped).toEqual([]);
    // The graph is real: a `.js` specifier resolved to its `.ts` file.
    expect(graph.obj()['lambdas/handlers/composition-root.ts']).toContain('lambdas/handlers/aws-building-blocks.ts');
  });

  it('has no circular dependencies', () => {
    const cycles = graph.circular().map((c) => c.join(' > '));
    expect({ cycles }).toEqual({ cycles: [] });
  });
});
