import { ESLint } from 'eslint';

/**
 * The "may import" column of the README's "Folders" table, checked through the real eslint.config.js: each case
 * lints a one-line module as if it lived at `filePath` and expects the boundary rule to fire
 * (or not).
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function violations(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport const _x = 1;\n`, { filePath });
  expect(result!.messages.filter((m) => m.fatal)).toEqual([]);
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const imp = (spec: string) => `import { thing } from '${spec}';\nexport { thing };`;

describe('import boundaries (eslint no-restricted-imports)', () => {
  it.each([
    // domain: nothing outside itself
    ['lambdas/domain/host.ts', '../adapters/dynamodb/client.js'],
    ['lambdas/domain/host.ts', '../ports/index.js'],
    ['lambdas/domain/host.ts', '../handlers/wiring.js'],
    ['lambdas/domain/host.ts', '../use-cases/hosts.js'],
    ['lambdas/domain/host.ts', '../contracts/api.js'],
    ['lambdas/domain/host.ts', '@aws-sdk/client-dynamodb'],
    ['lambdas/domain/host.ts', 'aws-cdk-lib'],
    ['lambdas/domain/host.ts', 'node:fs'],
    ['lambdas/domain/host.ts', '../ports/index.js', 'import type { Thing } from \'../ports/index.js\';\nexport type { Thing };'],
    ['lambdas/domain/host.ts', '../adapters/dynamodb/client.js', 'export { thing } from \'../adapters/dynamodb/client.js\';'],
    ['lambdas/domain/host.ts', '../handlers/http/hosts.js', 'export * from \'../handlers/http/hosts.js\';'],
    // ports: domain only
    ['lambdas/ports/index.ts', '../adapters/dynamodb/client.js'],
    ['lambdas/ports/index.ts', '../use-cases/context.js'],
    ['lambdas/ports/index.ts', '../handlers/wiring.js'],
    ['lambdas/ports/index.ts', '@aws-sdk/lib-dynamodb'],
    // use-cases: domain, ports, contracts
    ['lambdas/use-cases/hosts.ts', '../adapters/dynamodb/host-repository.js'],
    ['lambdas/use-cases/hosts.ts', '../handlers/http/framework.js'],
    ['lambdas/use-cases/hosts.ts', '@aws-sdk/client-dynamodb'],
    // adapters: no handlers, no use cases
    ['lambdas/adapters/dynamodb/host-repository.ts', '../../handlers/wiring.js'],
    ['lambdas/adapters/dynamodb/host-repository.ts', '../../use-cases/hosts.js'],
    // contracts: zod and each other only
    ['lambdas/contracts/api.ts', '../domain/errors.js'],
    ['lambdas/contracts/api.ts', '../ports/index.js'],
    ['lambdas/contracts/api.ts', '../adapters/dynamodb/keys.js'],
    ['lambdas/contracts/api.ts', '@aws-sdk/client-iot'],
    ['lambdas/contracts/api.ts', 'aws-cdk-lib/aws-iot'],
    // nothing in lambdas/ reaches the deployment or the local runtime
    ['lambdas/handlers/http/hosts.ts', '../../../lib/api-routes.js'],
    ['lambdas/handlers/http/hosts.ts', '../../../local/runtime.js'],
    ['lambdas/handlers/http/hosts.ts', 'aws-cdk-lib'],
    // lib: only lambdas/contracts from lambdas
    ['lib/constructs/api.ts', '../../lambdas/domain/errors.js'],
    ['lib/constructs/api.ts', '../../lambdas/handlers/http/hosts.js'],
    ['lib/edgefleet-stack.ts', '../lambdas/adapters/dynamodb/client.js'],
    ['lib/edgefleet-stack.ts', '../lambdas/use-cases/hosts.js'],
    ['lib/edgefleet-stack.ts', '../lambdas/ports/index.js'],
    // device and cli: only lambdas/contracts; cli only lib/api-routes from lib
    ['device/agent.ts', '../lambdas/domain/host-lifecycle.js'],
    ['device/agent.ts', '../lib/api-routes.js'],
    ['device/agent.ts', 'aws-cdk-lib'],
    // the agent never reaches the simulator (nor the local runtime, the CLI, the entry points)
    ['device/main.ts', '../simulator/index.js'],
    ['device/main.ts', '../simulator/simulated-kairos.js'],
    ['device/agent.ts', './simulated-kairos.js'],
    ['device/features/session.ts', '../../simulator/simulated-fleet.js'],
    ['device/agent.ts', '../local/runtime.js'],
    ['device/agent.ts', '../cli/program.js'],
    ['device/agent.ts', '../bin/local.js'],
    ['device/agent.ts', '../simulator/index.js', 'import type { SimulatedFleet } from \'../simulator/index.js\';\nexport type { SimulatedFleet };'],
    // the simulator: device/ and lambdas/contracts only
    ['simulator/simulated-fleet.ts', '../lambdas/domain/host-lifecycle.js'],
    ['simulator/simulated-fleet.ts', '../lambdas/adapters/dynamodb/client.js'],
    ['simulator/simulated-fleet.ts', '../lib/api-routes.js'],
    ['simulator/simulated-fleet.ts', '../local/runtime.js'],
    ['simulator/simulated-fleet.ts', '../cli/program.js'],
    ['simulator/simulated-fleet.ts', 'aws-cdk-lib'],
    ['cli/commands/hosts.ts', '../../lambdas/domain/errors.js'],
    ['cli/commands/hosts.ts', '../../lambdas/handlers/wiring.js'],
    ['cli/commands/hosts.ts', '../../lib/edgefleet-stack.js'],
    ['cli/program.ts', '../lib/synth.js'],
    ['cli/program.ts', 'aws-cdk-lib'],
    // console: only its generated API client and its own files
    ['console/src/pages/hosts.tsx', '../../../lambdas/contracts/api.js'],
    ['console/src/app.tsx', '../../lib/api-routes.js'],
    ['console/src/app.tsx', '../../local/console-site.js'],
    ['console/src/api/client.ts', '@aws-sdk/client-dynamodb'],
    // Every row has all three cells: jest passes a `done` callback to a test function that
    // declares more parameters than its row has, and then waits for it forever.
  ].map(([filePath, spec, source]) => [filePath, spec, source ?? imp(spec!)]))('%s may not import %s (%#)', async (filePath, _spec, source) => {
    expect(await violations(filePath!, source!)).toHaveLength(1);
  });

  it.each([
    ['lambdas/domain/host.ts', './errors.js'],
    ['lambdas/domain/host.ts', 'yaml'],
    ['lambdas/domain/host.ts', 'node:crypto'],
    ['lambdas/ports/index.ts', '../domain/model.js'],
    ['lambdas/use-cases/hosts.ts', '../domain/errors.js'],
    ['lambdas/use-cases/hosts.ts', '../ports/index.js'],
    ['lambdas/use-cases/hosts.ts', '../contracts/api.js'],
    ['lambdas/use-cases/hosts.ts', './context.js'],
    ['lambdas/adapters/dynamodb/host-repository.ts', '../../ports/index.js'],
    ['lambdas/adapters/dynamodb/host-repository.ts', '../../domain/model.js'],
    ['lambdas/adapters/dynamodb/host-repository.ts', '@aws-sdk/lib-dynamodb'],
    ['lambdas/contracts/api.ts', 'zod'],
    ['lambdas/contracts/api.ts', './common.js'],
    ['lambdas/handlers/wiring.ts', '../adapters/dynamodb/client.js'],
    ['lambdas/handlers/http/hosts.ts', '../../use-cases/hosts.js'],
    ['lambdas/handlers/http/hosts.ts', '../../domain/errors.js'],
    ['lib/constructs/api.ts', '../../lambdas/contracts/routes.js'],
    ['lib/constructs/api.ts', 'aws-cdk-lib'],
    ['lib/edgefleet-stack.ts', './constructs/api.js'],
    ['device/agent.ts', '../lambdas/contracts/api.js'],
    ['device/agent.ts', './features/session.js'],
    ['simulator/simulated-fleet.ts', '../device/agent.js'],
    ['simulator/simulated-fleet.ts', './simulated-kairos.js'],
    ['simulator/simulated-kairos.ts', '../lambdas/contracts/mqtt.js'],
    ['simulator/agent-main.ts', '../device/run-agent-process.js'],
    ['bin/local.ts', '../simulator/index.js'],
    ['bench/fleet.ts', '../simulator/index.js'],
    ['test/unit/device/agent.test.ts', '../../../simulator/index.js'],
    ['cli/commands/hosts.ts', '../../lambdas/contracts/api.js'],
    ['cli/program.ts', '../lib/api-routes.js'],
    ['cli/program.ts', './commands/hosts.js'],
    ['console/src/pages/hosts.tsx', '../api/client.js'],
    ['console/src/api/client.ts', 'openapi-fetch'],
    ['local/runtime.ts', '../lambdas/handlers/http/hosts.js'],
    ['local/runtime.ts', '../lambdas/adapters/dynamodb/client.js'],
    ['local/runtime.ts', '../lib/synth.js'],
    ['bin/app.ts', '../lib/edgefleet-stack.js'],
    ['test/unit/x.test.ts', '../../lambdas/adapters/dynamodb/client.js'],
  ])('%s may import %s', async (filePath, spec) => {
    expect(await violations(filePath, imp(spec))).toEqual([]);
  });

  it('names the rule that was broken', async () => {
    const [message] = await violations('lambdas/domain/host.ts', imp('../adapters/dynamodb/client.js'));
    expect(message).toMatch(/lambdas\/adapters is off limits/);
    const [simulator] = await violations('device/main.ts', imp('../simulator/index.js'));
    expect(simulator).toMatch(/must not import the simulator/);
  });
});
