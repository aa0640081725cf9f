/** The `edgefleet` CLI entry point: all behaviour lives in cli/; this only binds the process. */
import { runCli } from '../cli/program.js';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  cwd: process.cwd(),
  isTTY: Boolean(process.stdout.isTTY),
});
