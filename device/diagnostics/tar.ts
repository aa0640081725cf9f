import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/**
 * A tar.gz writer (POSIX ustar, regular files only): 512-byte headers, data padded to 512,
 * two zero blocks at the end, gzipped with node:zlib. Small enough to keep the agent free of a
 * dependency; what `tar -xzf` and every tar reader read.
 */

export interface TarEntry {
  /** Relative path, at most 100 bytes (ASCII). */
  readonly name: string;
  readonly content: Buffer;
  /** Modification time (epoch seconds). */
  readonly mtime: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(e: TarEntry): Buffer {
  const name = Buffer.from(e.name, 'utf8');
  if (name.length > 100 || !/^[\x21-\x7e]+$/.test(e.name)) throw new Error(`tar entry name ${JSON.stringify(e.name)} is not 1–100 printable ASCII characters`);
  const h = Buffer.alloc(BLOCK, 0);
  name.copy(h, 0);
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(e.content.length, 12), 124, 'ascii');
  h.write(octal(Math.max(0, Math.floor(e.mtime)), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** The uncompressed tar archive of `entries`. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e), e.content);
    const pad = (BLOCK - (e.content.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(2 * BLOCK, 0));
  return Buffer.concat(parts);
}

export interface Packed {
  readonly tgz: Buffer;
  readonly sha256: string;
}

export function tarGz(entries: readonly TarEntry[]): Packed {
  const tgz = gzipSync(tarArchive(entries), { level: 9 });
  return { tgz, sha256: createHash('sha256').update(tgz).digest('hex') };
}
