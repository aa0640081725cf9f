import { ESLint } from 'eslint';

/**
 * `npm run lint` fails on an import cycle (import-x/no-cycle through the real eslint.config.js):
 * each case lints a one-line module as if it lived at `filePath`; the module it imports leads
 * back to that file through the sources on disk (NodeNext `.js` specifiers resolved to `.ts`).
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function cycles(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport const _x = 1;\n`, { filePath });
  expect(result!.messages.filter((m) => m.fatal)).toEqual([]);
  return result!.messages.filter((m) => m.ruleId === 'import-x/no-cycle').map((m) => m.message);
}

describe('import cycles (eslint import-x/no-cycle)', () => {
  it.each([
    // device-messages imports domain/errors: errors importing it back closes a cycle.
    ['lambdas/domain/errors.ts', "import { publishStored } from '../use-cases/device-messages.js';\nexport { publishStored };"],
    // through several modules: a handler reaches domain/errors via its framework and use case.
    ['lambdas/domain/errors.ts', "import { handler } from '../handlers/iot/status.js';\nexport { handler };"],
  ])('%s importing back (%#) is a cycle', async (filePath, source) => {
    expect(await cycles(filePath, source)).toEqual([expect.stringMatching(/^Dependency cycle/)]);
  });

  it.each([
    ['lambdas/use-cases/device-messages.ts', "import { ConflictError } from '../domain/errors.js';\nexport { ConflictError };"],
    ['local/runtime.ts', "import { composeRoot } from '../lambdas/handlers/composition-root.js';\nexport { composeRoot };"],
  ])('%s: an import that does not lead back (%#) is no cycle', async (filePath, source) => {
    expect(await cycles(filePath, source)).toEqual([]);
  });
});
