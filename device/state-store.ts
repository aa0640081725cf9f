import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a file so that a crash leaves either the old or the new content, never a mix: the
 * data goes to a temporary file in the same directory, is fsynced, renamed over the target,
 * and the directory is fsynced so that the rename itself survives a power cut.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(path));
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export interface Registration {
  readonly hostId: string;
  readonly thingName: string;
  readonly mqtt: { readonly endpoint: string; readonly port: number };
}

export interface Credentials {
  readonly certificatePem: string;
  readonly caPem: string;
}

export interface CommandOutcome {
  readonly phase: 'succeeded' | 'failed';
  readonly detail?: string;
  /** collect-diagnostics: what was uploaded (repeated with the result on a redelivery). */
  readonly bundle?: { readonly bytes: number; readonly sha256: string };
}

export interface Inflight {
  readonly commandId: string;
  /** `apply`: an apply-cloud-config with `reboot: true`. */
  readonly type: 'upgrade' | 'reboot' | 'reset' | 'apply';
  readonly deadline: string;
  readonly targetVersion?: string;
  /** upgrade, apply: the kubelet version the node must report Ready at after the boot. */
  readonly kubeletVersion?: string;
  readonly image?: string;
  readonly startedAt: string;
  /** apply: the config has a cluster stanza, so the node must be Ready after the boot. */
  readonly expectKubernetes?: boolean;
  readonly readyTimeoutSeconds?: number;
}

const FILES = {
  key: 'device-key.pem',
  csr: 'device.csr',
  certificate: 'device-cert.pem',
  ca: 'ca.pem',
  registration: 'registration.json',
  commands: 'commands.json',
  inflight: 'inflight.json',
} as const;

export const DEFAULT_MAX_COMMAND_IDS = 1000;

/**
 * The agent's persistent state, one file per item, each written atomically with mode 0600:
 * the device key (PKCS8 PEM, never leaves the host), its CSR, the certificate and CA, the
 * registration (host id, thing name, MQTT endpoint) and the ids of commands already accepted
 * (a bounded set, oldest dropped first).
 */
export class StateStore {
  private commandIds: string[] | undefined;
  private outcomes: Record<string, CommandOutcome> = {};

  constructor(readonly dir: string, private readonly maxCommandIds = DEFAULT_MAX_COMMAND_IDS) {}

  /** Creates the directory (0700) and removes temporary files a crash left behind. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.dir)) {
      if (name.startsWith('.') && name.endsWith('.tmp')) await unlink(join(this.dir, name)).catch(() => undefined);
    }
  }

  private path(name: string): string {
    return join(this.dir, name);
  }

  readKey(): Promise<string | undefined> {
    return readIfExists(this.path(FILES.key));
  }
  writeKey(pem: string): Promise<void> {
    return writeFileAtomic(this.path(FILES.key), pem);
  }
  readCsr(): Promise<string | undefined> {
    return readIfExists(this.path(FILES.csr));
  }
  writeCsr(pem: string): Promise<void> {
    return writeFileAtomic(this.path(FILES.csr), pem);
  }

  async readCredentials(): Promise<Credentials | undefined> {
    const [certificatePem, caPem] = await Promise.all([readIfExists(this.path(FILES.certificate)), readIfExists(this.path(FILES.ca))]);
    return certificatePem && caPem ? { certificatePem, caPem } : undefined;
  }
  async writeCredentials(c: Credentials): Promise<void> {
    await writeFileAtomic(this.path(FILES.ca), c.caPem);
    await writeFileAtomic(this.path(FILES.certificate), c.certificatePem);
  }

  async readRegistration(): Promise<Registration | undefined> {
    const text = await readIfExists(this.path(FILES.registration));
    if (text === undefined) return undefined;
    try {
      const r = JSON.parse(text) as Registration;
      return typeof r.hostId === 'string' && typeof r.thingName === 'string' && typeof r.mqtt?.endpoint === 'string' && typeof r.mqtt.port === 'number' ? r : undefined;
    } catch {
      return undefined;
    }
  }
  writeRegistration(r: Registration): Promise<void> {
    return writeFileAtomic(this.path(FILES.registration), `${JSON.stringify(r, null, 2)}\n`);
  }

  /** A command whose outcome is known only after a reboot (upgrade, reboot, reset, apply with reboot). */
  async readInflight(): Promise<Inflight | undefined> {
    const text = await readIfExists(this.path(FILES.inflight));
    try {
      const v = text ? (JSON.parse(text) as Inflight) : undefined;
      return v && typeof v.commandId === 'string' && typeof v.type === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  }
  writeInflight(i: Inflight): Promise<void> {
    return writeFileAtomic(this.path(FILES.inflight), `${JSON.stringify(i)}\n`);
  }
  async clearInflight(): Promise<void> {
    await unlink(this.path(FILES.inflight)).catch(() => undefined);
  }

  private async ids(): Promise<string[]> {
    if (!this.commandIds) {
      const text = await readIfExists(this.path(FILES.commands));
      let parsed: { ids?: unknown; outcomes?: unknown } = {};
      try {
        parsed = text ? (JSON.parse(text) as typeof parsed) : {};
      } catch {
        parsed = {};
      }
      this.commandIds = Array.isArray(parsed.ids) ? parsed.ids.filter((x): x is string => typeof x === 'string') : [];
      this.outcomes = typeof parsed.outcomes === 'object' && parsed.outcomes !== null ? (parsed.outcomes as Record<string, CommandOutcome>) : {};
    }
    return this.commandIds;
  }

  private async save(ids: string[], outcomes: Record<string, CommandOutcome>): Promise<void> {
    const kept = Object.fromEntries(ids.filter((id) => outcomes[id]).map((id) => [id, outcomes[id]!]));
    await writeFileAtomic(this.path(FILES.commands), `${JSON.stringify({ ids, outcomes: kept })}\n`);
    this.commandIds = ids;
    this.outcomes = kept;
  }

  async hasCommand(commandId: string): Promise<boolean> {
    return (await this.ids()).includes(commandId);
  }

  /**
   * Records a command id as accepted, durably, before the command runs. Returns false (and
   * writes nothing) when the id was already recorded: the command must not run again.
   */
  async recordCommand(commandId: string): Promise<boolean> {
    const ids = await this.ids();
    if (ids.includes(commandId)) return false;
    await this.save([...ids, commandId].slice(-this.maxCommandIds), this.outcomes);
    return true;
  }

  /** The final result of a recorded command, kept so that a redelivery can be answered again. */
  async recordOutcome(commandId: string, outcome: CommandOutcome): Promise<void> {
    const ids = await this.ids();
    if (!ids.includes(commandId)) return;
    await this.save(ids, { ...this.outcomes, [commandId]: outcome });
  }

  async outcomeOf(commandId: string): Promise<CommandOutcome | undefined> {
    await this.ids();
    return this.outcomes[commandId];
  }
}
