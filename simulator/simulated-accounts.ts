import { CommandFailed, type CommandRunner, type RunResult } from '../device/command-runner.js';

/**
 * The user accounts of a simulated host: what `useradd` and `userdel` (the remote-shell
 * feature's programs) did to it. It answers as shadow-utils does: useradd of an existing user
 * exits 9, userdel of a missing one exits 6; every call is recorded (argv) in `calls`.
 */
export class SimulatedAccounts implements CommandRunner {
  readonly calls: string[] = [];
  private readonly present = new Set<string>();

  async run(file: string, args: readonly string[]): Promise<RunResult> {
    this.calls.push([file, ...args].join(' '));
    const user = args[args.length - 1] ?? '';
    if (file === 'useradd') {
      if (this.present.has(user)) throw new CommandFailed(file, args, 9, `useradd: user '${user}' already exists`, false);
      this.present.add(user);
      return { stdout: '', stderr: '' };
    }
    if (file === 'userdel') {
      if (!this.present.delete(user)) throw new CommandFailed(file, args, 6, `userdel: user '${user}' does not exist`, false);
      return { stdout: '', stderr: '' };
    }
    throw new CommandFailed(file, args, 127, `${file}: command not found on a simulated host`, false);
  }

  /** The users that exist now. */
  get users(): string[] {
    return [...this.present];
  }
}
