import { execFile } from 'node:child_process';

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Kill the process after this long (default 10 minutes). */
  readonly timeoutMs?: number;
}

/** Runs one program with an argv array: never through a shell. */
export interface CommandRunner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
  constructor(readonly file: string, readonly args: readonly string[], readonly exitCode: number | string | null, readonly stderr: string, readonly timedOut: boolean) {
    super(`${[file, ...args].join(' ')} ${timedOut ? 'timed out' : `failed (exit ${exitCode})`}${stderr.trim() ? `: ${stderr.trim().slice(-500)}` : ''}`);
  }
}

/** The real runner: `child_process.execFile` with `shell: false`, a timeout and a bounded output. */
export class ExecFileRunner implements CommandRunner {
  run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const timeout = options.timeoutMs ?? 10 * 60_000;
    return new Promise((resolve, reject) => {
      execFile(file, [...args], { shell: false, timeout, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }, (error, stdout, stderr) => {
        if (error) {
          const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string };
          const timedOut = e.killed === true && e.signal === 'SIGKILL';
          reject(new CommandFailed(file, args, typeof e.code === 'number' || typeof e.code === 'string' ? e.code : null, String(stderr ?? ''), timedOut));
          return;
        }
        resolve({ stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }
}

/**
 * The programs the agent runs on a host, and nothing else: Kairos (`kairos-agent`,
 * `grub2-editenv`, `reboot`), the Kubernetes service (`systemctl`), `kubectl` (k3s/kubeadm on
 * the PATH, rke2's own) and `helm` (kubeadm pack installation, device/pack-install.ts); for
 * diagnostics bundles (device/diagnostics/plan.ts) `journalctl`, `df` and `ip`, read-only.
 */
export const AGENT_PROGRAMS: readonly string[] = ['kairos-agent', 'grub2-editenv', 'reboot', 'systemctl', 'kubectl', '/var/lib/rancher/rke2/bin/kubectl', 'helm', 'journalctl', 'df', 'ip'];

export class ProgramNotAllowed extends Error {
  override readonly name = 'ProgramNotAllowed';
}

/** Refuses any program outside the allow-list before the inner runner sees it. */
export class AllowListRunner implements CommandRunner {
  constructor(private readonly inner: CommandRunner, private readonly allowed: readonly string[] = AGENT_PROGRAMS) {}
  run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    if (!this.allowed.includes(file)) {
      return Promise.reject(new ProgramNotAllowed(`${JSON.stringify(file.slice(0, 80))} is not a program the agent runs (allowed: ${this.allowed.join(', ')})`));
    }
    return this.inner.run(file, args, options);
  }
}
