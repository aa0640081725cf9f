import { z } from 'zod';
import { hostId, isoTime, safeText } from './common.js';

/**
 * Diagnostics bundles (issue 12, "diagnostics without a shell"): the wire shapes of
 * `POST /v1/hosts/{hostId}/diagnostics`, `GET /v1/hosts/{hostId}/diagnostics/{diagnosticsId}`,
 * the stored record, and the bundle's manifest (manifest.json inside the tar.gz).
 */

/** The longest window of logs a bundle may cover: 7 days. */
export const MAX_DIAGNOSTICS_WINDOW_SECONDS = 7 * 24 * 3600;

/** A window such as `30m`, `1h`, `2d`: minutes, hours or days, at most 7 days. */
export const diagnosticsWindow = z.string().max(8).regex(/^[1-9]\d{0,4}[mhd]$/, 'a window such as 30m, 1h or 2d (minutes, hours or days)')
  .refine((s) => windowSeconds(s) <= MAX_DIAGNOSTICS_WINDOW_SECONDS, 'at most 7 days (7d, 168h)');

/** `30m` → 1800 (the string must match diagnosticsWindow's pattern). */
export function windowSeconds(s: string): number {
  const n = Number(s.slice(0, -1));
  const unit = s.slice(-1);
  return n * (unit === 'm' ? 60 : unit === 'h' ? 3600 : 86_400);
}

export const createDiagnosticsBody = z.strictObject({
  /** How far back the journals go. */
  since: diagnosticsWindow,
  /** Why (kept in the record and the audit trail). */
  reason: safeText(200).optional(),
});

export const diagnosticsStatus = z.enum(['requested', 'collecting', 'uploaded', 'failed']);
export type DiagnosticsStatus = z.infer<typeof diagnosticsStatus>;

const sha256Hex = z.string().regex(/^[a-f0-9]{64}$/, 'a sha256 in hex');
export const bundleFacts = z.strictObject({ bytes: z.number().int().min(1), sha256: sha256Hex });

/** The stored record of one request (state table, under its host); parsed on every read. */
export const diagnosticsRecord = z.strictObject({
  id: z.string().min(1).max(64),
  project: z.string(),
  hostId,
  status: diagnosticsStatus,
  /** Why it failed (or what the host said while collecting). */
  statusReason: z.string().max(4096).optional(),
  /** The start of the window (ISO); the end is when the host collected. */
  since: isoTime,
  window: z.string(),
  reason: z.string().optional(),
  requestedBy: z.string(),
  requestedAt: isoTime,
  updatedAt: isoTime,
  /** The command the host runs (collect-diagnostics). */
  commandId: z.string(),
  deadline: isoTime,
  /** Where the bundle goes (the object key in the bucket, or under the local data dir). */
  objectKey: z.string(),
  maxBytes: z.number().int(),
  bundle: bundleFacts.optional(),
  version: z.number().int().min(1),
});

/** What the API shows; `download` only when uploaded (a short-lived URL, made per request). */
export const diagnosticsView = z.object({
  ...diagnosticsRecord.pick({
    hostId: true, status: true, statusReason: true, since: true, window: true, reason: true,
    requestedBy: true, requestedAt: true, updatedAt: true, deadline: true, maxBytes: true, bundle: true,
  }).shape,
  id: z.string(),
  download: z.object({ url: z.string(), expiresAt: isoTime }).optional(),
});
export type DiagnosticsView = z.infer<typeof diagnosticsView>;

/** One collected item in manifest.json. */
export const manifestItem = z.strictObject({
  /** The file in the bundle, e.g. `journal/k3s.log`. */
  file: z.string(),
  /** What produced it: an argv, `read <path>`, or `tcp-connect <host>:<port>`. */
  command: z.string(),
  /** Exit code (0 = fine); null when the program could not be started or timed out. */
  exitCode: z.number().int().nullable(),
  durationMs: z.number().int().min(0),
  bytes: z.number().int().min(0),
  /** How many secrets were blanked out of it. */
  redactions: z.number().int().min(0),
  /** Why it failed (the item is still in the bundle with what it printed). */
  error: z.string().optional(),
  /** Cut at the size bound. */
  truncated: z.boolean().optional(),
});
export const bundleManifest = z.strictObject({
  hostId: z.string(),
  commandId: z.string(),
  collectedAt: isoTime,
  since: isoTime,
  agentVersion: z.string(),
  items: z.array(manifestItem),
});
export type BundleManifest = z.infer<typeof bundleManifest>;
export type ManifestItem = z.infer<typeof manifestItem>;

/** A host's requests, newest first (GET /v1/hosts/{hostId}/diagnostics): no download URLs; `more` when the host has more than the list reads. */
export const diagnosticsList = z.object({ items: z.array(diagnosticsView), more: z.boolean() });
