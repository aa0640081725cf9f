import { gunzipSync } from 'node:zlib';

/** The files of a tar.gz (ustar regular files; other entries are skipped), by name. */
export function readTarGz(tgz: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(tgz);
  const files = new Map<string, Buffer>();
  let at = 0;
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, len: number) => header.subarray(from, from + len).toString('ascii').replace(/\0.*$/s, '');
    const name = field(0, 100);
    const prefix = field(345, 155);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    if (!Number.isFinite(size) || size < 0) throw new Error(`the bundle is not a tar archive (entry ${JSON.stringify(name)} has no size)`);
    at += 512;
    if (type === '0' || type === '') files.set(prefix ? `${prefix}/${name}` : name, Buffer.from(tar.subarray(at, at + size)));
    at += Math.ceil(size / 512) * 512;
  }
  return files;
}
