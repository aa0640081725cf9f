import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ValidationError } from '../lambdas/domain/errors.js';
import type { SecretStore } from '../lambdas/ports/workflow.js';

const code = (e: unknown) => (e as NodeJS.ErrnoException)?.code;
/** Longest file name most file systems accept. */
const MAX_FILE_NAME = 255;

/**
 * SecretStore for the local runtime: one 0600 file per secret in a 0700 directory. File names
 * are the base64url of the secret name, so no name can reach outside the directory.
 * A secret is written to a temporary file first and then hard-linked into place: the link is
 * atomic and fails if the name exists, so concurrent `ensure` calls agree on one value and a
 * reader never sees a half-written file.
 */
export class FileSecretStore implements SecretStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly dir: string) {}

  async ensure(name: string, generate: () => string): Promise<string> {
    const file = this.fileFor(name);
    const existing = await this.get(name);
    if (existing !== undefined) return existing;
    const value = generate();
    const tmp = await this.writeTemp(value);
    try {
      await link(tmp, file);
      await this.syncDir();
      return value;
    } catch (e) {
      if (code(e) !== 'EEXIST') throw e;
      // A concurrent ensure won: its value is the one everybody uses.
      return readFile(file, 'utf8');
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async get(name: string): Promise<string | undefined> {
    try {
      return await readFile(this.fileFor(name), 'utf8');
    } catch (e) {
      if (code(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  async put(name: string, value: string): Promise<void> {
    const file = this.fileFor(name);
    const tmp = await this.writeTemp(value);
    try {
      // rename replaces atomically: a reader sees the old value or the new one, never half of one.
      await rename(tmp, file);
      await this.syncDir();
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await unlink(this.fileFor(name));
    } catch (e) {
      if (code(e) !== 'ENOENT') throw e;
    }
  }

  /** `value` in a new 0600 temporary file of the directory, synced: the one write path of `ensure` and `put`. */
  private async writeTemp(value: string): Promise<string> {
    await this.prepare();
    const tmp = path.join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(value, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    return tmp;
  }

  private fileFor(name: string): string {
    const encoded = Buffer.from(name, 'utf8').toString('base64url');
    if (encoded.length === 0 || encoded.length > MAX_FILE_NAME) {
      throw new ValidationError('invalid-secret-name', `secret name of ${Buffer.byteLength(name)} bytes is not valid: use 1–190 bytes`);
    }
    return path.join(this.dir, encoded);
  }

  private prepare(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await chmod(this.dir, 0o700);
    })().catch((e: unknown) => { this.ready = undefined; throw e; });
    return this.ready;
  }

  private async syncDir(): Promise<void> {
    const d = await open(this.dir, 'r');
    try { await d.sync(); } finally { await d.close(); }
  }
}
