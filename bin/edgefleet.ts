/** The `edgefleet` CLI entry point: all behaviour lives in cli/; this binds the process and passes the pure image renderer (cli/ may not import lambdas/domain). */
import { runCli } from '../cli/program.js';
import { AGENT_LAYOUT } from '../lambdas/contracts/agent-layout.js';
import { planImage, renderImageBuildContext } from '../lambdas/domain/image-build-context.js';

// `edgefleet hosts list | head`: a closed pipe ends the command quietly, like other CLIs.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  cwd: process.cwd(),
  isTTY: Boolean(process.stdout.isTTY),
  imageBuild: { plan: planImage, render: (input) => renderImageBuildContext(input, AGENT_LAYOUT) },
});
