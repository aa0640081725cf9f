import { chmodSync, writeFileSync } from 'node:fs';
import { CliError, EXIT } from './errors.js';

/**
 * Writes `text` to `path` readable by its owner only (0600, also when the file existed with a
 * wider mode): for what holds credentials (kubeconfigs, user-data with a registration secret).
 * A failure is a usage error naming the file as the operator typed it (`shownAs`).
 */
export function writePrivateFile(path: string, text: string, shownAs: string): void {
  try {
    writeFileSync(path, text, { mode: 0o600 });
    chmodSync(path, 0o600);
  } catch (err) {
    throw new CliError(`cannot write ${shownAs}: ${(err as Error).message}`, EXIT.usage);
  }
}
