import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import { z } from 'zod';
import type { StoredStatus } from '../../domain/device-status.js';
import { keys } from './keys.js';

/**
 * The host's last stored status report: one item per host (pk HOST#<id>, sk STATUS), replaced by
 * every stored report. Its content (boot, Kubernetes, inventory, addresses, packs…) is JSON,
 * brotli-compressed, in the binary attribute `contentBr`: a full report of a cluster node is
 * 1–1.5 KB as a plain map, so every write cost two write units (a put is billed on the larger of
 * the old and the new item: even a small report after a full one); compressed the item stays under
 * 1 KB (one unit). The ordering and change-detection fields (`at`, `seq`, `fingerprint`,
 * `storedAt`) stay plain: the conditional write compares `at` and `seq`.
 *
 * Every reader decodes with `statusFromItem` (the status store, the health snapshot, the host
 * listing's join), so they all see the same StoredStatus. An item stored by an earlier release
 * (the content as a plain map, `content`) reads the same; it is rewritten compressed by the
 * host's next stored report. Nothing to migrate.
 */
export const statusKey = (hostId: string) => ({ pk: keys.host(hostId).pk, sk: 'STATUS' });

export function statusItem(hostId: string, status: StoredStatus): Record<string, unknown> {
  return {
    ...statusKey(hostId), kind: 'status',
    at: status.at, seq: status.seq, fingerprint: status.fingerprint, storedAt: status.storedAt,
    contentBr: compressContent(status.content),
  };
}

/**
 * Brotli (text mode, quality 10) of the content's JSON. Measured on a full init-node report
 * (1,410 bytes of JSON): quality 10 gives 520 bytes in 1.2 ms, quality 11 527 bytes in 2.8 ms,
 * quality 9 and below ~560 bytes in 0.1 ms. 10 keeps the smallest item (a write unit is per KB)
 * at less than half 11's CPU, which is paid on every stored report.
 */
export function compressContent(content: StoredStatus['content']): Uint8Array {
  const json = JSON.stringify(content);
  return brotliCompressSync(json, {
    params: { [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT, [zlib.BROTLI_PARAM_QUALITY]: 10, [zlib.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(json) },
  });
}

const head = z.object({ at: z.number(), seq: z.number(), fingerprint: z.string(), storedAt: z.number() });
const contentMap = z.record(z.string(), z.unknown());

/**
 * The StoredStatus of a status item, compressed (`contentBr`) or as an earlier release stored it
 * (`content`, a plain map). An item that cannot be read (no ordering fields, content that does
 * not decompress or is not a JSON object) is no report: the readers treat the host as not having
 * reported yet, and the host's next report (always newer) replaces the item.
 */
export function statusFromItem(item: Record<string, unknown> | undefined): StoredStatus | undefined {
  if (!item) return undefined;
  const h = head.safeParse(item);
  if (!h.success) return undefined;
  const content = contentMap.safeParse(item.contentBr instanceof Uint8Array ? decompressContent(item.contentBr) : item.content);
  if (!content.success) return undefined;
  return { at: h.data.at, seq: h.data.seq, fingerprint: h.data.fingerprint, storedAt: h.data.storedAt, content: content.data };
}

function decompressContent(br: Uint8Array): unknown {
  try {
    return JSON.parse(brotliDecompressSync(br).toString('utf8'));
  } catch {
    return undefined;
  }
}
