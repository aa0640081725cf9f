/**
 * The `edgefleet` command: builds the commander program and runs it in-process.
 * runCli never calls process.exit; it returns the exit code (see EXIT_CODE_TABLE).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerClusters } from './commands/clusters.js';
import { registerHosts } from './commands/hosts.js';
import { registerImages } from './commands/images.js';
import { registerLogin } from './commands/login.js';
import { registerOperations } from './commands/operations.js';
import { registerProfiles } from './commands/profiles.js';
import { registerRollouts } from './commands/rollouts.js';
import { registerTemplates } from './commands/templates.js';
import { registerTokens } from './commands/tokens.js';
import { registerUpgrades } from './commands/upgrades.js';
import { registerUserData } from './commands/user-data.js';
import { CliRuntime, type CliIo } from './context.js';
import { EXIT, EXIT_CODE_TABLE, describeError } from './errors.js';
import { FORMATS } from './output.js';

export type { CliIo } from './context.js';

function cliVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export const ROOT_EPILOG = `
Configuration (first match wins):
  API URL and token  --url/--token; EDGEFLEET_URL/EDGEFLEET_TOKEN; the config saved by
                     \`edgefleet login\` ($EDGEFLEET_CONFIG, default ~/.config/edgefleet/config.json);
                     the local runtime's $EDGEFLEET_DATA_DIR/local.json (default ./.edgefleet)
  Project            --project; EDGEFLEET_PROJECT; the project saved by login; "default"

Exit codes:
${EXIT_CODE_TABLE.map(([code, text]) => `  ${code}  ${text}`).join('\n')}

Examples:
  $ npm start                      # in another terminal: the local control plane
  $ edgefleet login
  $ edgefleet tokens create --name shop-12 --site shop-12
  $ edgefleet hosts import fleet.csv
  $ edgefleet hosts list --status pending
  $ edgefleet clusters create --name shop-12 --profile edge-k3s@1.0.0 --control-plane hw-1
`;

export function buildProgram(rt: CliRuntime): Command {
  const { io } = rt;
  const program = new Command('edgefleet');
  program
    .description('EdgeFleet: manage edge hosts, cluster profiles and Kubernetes clusters')
    .version(cliVersion(), '-V, --version', 'print the CLI version')
    .exitOverride()
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(s),
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
      getOutHasColors: () => rt.color,
      getErrHasColors: () => false,
    })
    .option('--url <url>', 'EdgeFleet API URL (or EDGEFLEET_URL)')
    .option('--token <jwt>', 'API token (or EDGEFLEET_TOKEN)')
    .option('--project <name>', 'project (or EDGEFLEET_PROJECT; default "default")')
    .addOption(new Option('-o, --output <format>', 'output format (default: table)').choices(FORMATS))
    .addHelpText('after', ROOT_EPILOG);

  registerLogin(program, rt);
  registerTokens(program, rt);
  registerHosts(program, rt);
  registerProfiles(program, rt);
  registerClusters(program, rt);
  registerTemplates(program, rt);
  registerRollouts(program, rt);
  registerOperations(program, rt);
  registerUpgrades(program, rt);
  registerAudit(program, rt);
  registerUserData(program, rt);
  registerImages(program, rt);
  return program;
}

/**
 * Runs `edgefleet <argv...>` (argv without the node and script paths) and returns the exit code.
 * Output goes only through io.stdout/io.stderr; nothing here exits the process.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const rt = new CliRuntime(io);
  const program = buildProgram(rt);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return rt.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed the message (or the help). Help and --version are success.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { text, exitCode } = describeError(err, rt.errorContext);
    io.stderr(exitCode === EXIT.usage ? `${text}(add --help for usage)\n` : text);
    return exitCode;
  }
}
