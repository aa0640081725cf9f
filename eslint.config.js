// @ts-check
/**
 * Lint config: typescript-eslint's recommended rules (syntax only, no type information, so
 * `npm run lint` stays fast) plus the import boundaries of the "may import" column in
 * README's "Folders" table, enforced with `no-restricted-imports` per folder.
 *
 * Flat config replaces (does not merge) a rule's options when two blocks match one file, so
 * every folder gets exactly one `no-restricted-imports` block, built from the groups below.
 * The rule sees static `import`/`export … from` (type-only ones too), not dynamic `import()`.
 */
import { defineConfig, globalIgnores } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** One restricted group: gitignore-style patterns matched against the import specifier. */
const group = (message, ...patterns) => ({ group: patterns, message });

// Folders of lambdas/, matched wherever a relative path puts them ("../adapters/x.js",
// "../../lambdas/domain/x.js"). A folder name is only matched as a whole path segment.
const DOMAIN = group('lambdas/domain is off limits here (see the "may import" column of DESIGN.md).', '**/domain', '**/domain/**');
const PORTS = group('lambdas/ports is off limits here (see DESIGN.md).', '**/ports', '**/ports/**');
const USE_CASES = group('lambdas/use-cases is off limits here: only handlers call use cases (see DESIGN.md).', '**/use-cases', '**/use-cases/**');
const ADAPTERS = group('lambdas/adapters is off limits here: depend on a port and let the handler wiring pass the adapter (see DESIGN.md).', '**/adapters', '**/adapters/**');
const HANDLERS = group('lambdas/handlers is off limits here: handlers are entry points, nothing imports them (see DESIGN.md).', '**/handlers', '**/handlers/**');
const CONTRACTS = group('lambdas/contracts is off limits here (see DESIGN.md).', '**/contracts', '**/contracts/**');
// Packages are matched by anchored regex: a bare gitignore pattern such as "http" or
// "constructs" would also match a folder of that name inside a relative path.
const pkg = (message, regex) => ({ regex, message });
const AWS_SDK = pkg('No AWS SDK here: I/O belongs in lambdas/adapters behind a port.', '^@aws-sdk/');
const CDK = pkg('No CDK here: aws-cdk-lib and constructs belong in lib/.', '^(aws-cdk-lib|constructs)(/|$)');
/** Code deployed in a Lambda bundle must not reach the deployment, the local runtime or the CLI. */
const OUTSIDE_LAMBDAS = group(
  'lambdas/ is deployed on its own: it must not import lib/, local/, cli/, device/ or bin/.',
  '../**/lib/**', '../**/local/**', '../**/cli/**', '../**/device/**', '../**/bin/**',
);
const IO = pkg('The domain is pure: no file, process or network I/O.', '^(node:)?(fs|child_process|http|https|http2|net|tls|dgram|dns)(/|$)');
/** lambdas/ seen from outside it: everything except lambdas/contracts. */
const LAMBDAS_EXCEPT_CONTRACTS = group(
  'Only lambdas/contracts (the wire schemas) may be imported from lambdas/ here (see DESIGN.md).',
  '**/lambdas/*', '!**/lambdas/contracts',
);

/** The simulator (simulated Kairos, Kubernetes, fleets): never part of the shipped agent. */
const SIMULATOR = group(
  'device/ is the shipped agent: it must not import the simulator (simulator/, simulated-*); the simulator imports the agent, not the reverse.',
  '**/simulator', '**/simulator/**', '**/simulated-*',
);
/** The agent and the simulator run on their own: nothing of the deployment, the local runtime, the CLI or the entry points. */
const OUTSIDE_AGENT = group(
  'The agent and the simulator use only device/ and lambdas/contracts: not lib/, local/, cli/ or bin/.',
  '**/lib/*', '../**/local/**', '../**/cli/**', '../**/bin/**',
);

const restrict = (files, ...groups) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: groups }] },
});

export default defineConfig(
  globalIgnores(['node_modules/', 'cdk.out/', '.edgefleet/', 'coverage/', 'bench/results/', 'dist/', 'console/dist/', 'test/browser/screenshots/']),
  tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_',
        ignoreRestSiblings: true,
      }],
    },
  },

  {
    // Synthesized CloudFormation templates are untyped JSON; these files walk them as such.
    files: ['test/**', 'lib/synth.ts', 'lib/template-tables.ts', 'lib/asl-guard.ts', 'local/template-cache.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },

  // ---- no import cycles in the shipped code (type-only imports are left to the madge test,
  // test/unit/import-cycles.test.ts, which sees them too) ----
  {
    files: ['lambdas/**/*.ts', 'device/**/*.ts', 'simulator/**/*.ts', 'local/**/*.ts', 'lib/**/*.ts', 'cli/**/*.ts', 'bin/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // NodeNext specifiers name the emitted `.js`; the sources are `.ts`, parsed as TypeScript.
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },

  // ---- import boundaries (DESIGN.md, "may import") ----
  restrict(['lambdas/domain/**'], PORTS, ADAPTERS, HANDLERS, USE_CASES, CONTRACTS, AWS_SDK, CDK, OUTSIDE_LAMBDAS, IO),
  restrict(['lambdas/ports/**'], ADAPTERS, HANDLERS, USE_CASES, CONTRACTS, AWS_SDK, CDK, OUTSIDE_LAMBDAS),
  restrict(['lambdas/use-cases/**'], ADAPTERS, HANDLERS, AWS_SDK, CDK, OUTSIDE_LAMBDAS),
  restrict(['lambdas/adapters/**'], HANDLERS, USE_CASES, CDK, OUTSIDE_LAMBDAS),
  restrict(['lambdas/contracts/**'], DOMAIN, PORTS, ADAPTERS, HANDLERS, USE_CASES, AWS_SDK, CDK, OUTSIDE_LAMBDAS),
  restrict(['lambdas/handlers/**'], CDK, OUTSIDE_LAMBDAS),
  restrict(['lib/**'], LAMBDAS_EXCEPT_CONTRACTS),
  restrict(['device/**'], LAMBDAS_EXCEPT_CONTRACTS, CDK, OUTSIDE_AGENT, SIMULATOR),
  restrict(['simulator/**'], LAMBDAS_EXCEPT_CONTRACTS, CDK, OUTSIDE_AGENT),
  restrict(['cli/**'], LAMBDAS_EXCEPT_CONTRACTS, CDK,
    group('The CLI may use only the route table from lib/ (lib/api-routes).', '**/lib/*', '!**/lib/api-routes.js', '!**/lib/api-routes')),
  // The web console talks only to the public HTTP API through its generated client (console/src/api).
  restrict(['console/**'],
    group('The web console may import only its generated API client (console/src/api) and its own files: no lambdas/, lib/, local/, cli/, device/, simulator/ or bin/ (see DESIGN.md).',
      '**/lambdas', '**/lambdas/**', '**/lib/**', '**/local/**', '**/cli/**', '**/device/**', '**/simulator/**', '**/bin/**'),
    AWS_SDK, CDK),
  // local/, bin/, test/ and bench/ may import anything.
);
