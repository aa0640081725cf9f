import type { DiagnosticsRecord } from '../domain/diagnostics.js';

/** Diagnostics requests, one item per request under its host (conditional writes). */
export interface DiagnosticsRepository {
  /** Stores a new request; false if the id exists. */
  create(record: DiagnosticsRecord): Promise<boolean>;
  get(hostId: string, id: string): Promise<DiagnosticsRecord | undefined>;
  /** Up to `limit` of the host's requests (in no particular order), and whether the host has more. */
  listByHost(hostId: string, limit: number): Promise<{ items: DiagnosticsRecord[]; more: boolean }>;
  /** Replaces the record if the stored version is `next.version - 1`; false on a lost race. */
  update(next: DiagnosticsRecord): Promise<boolean>;
}

/** A presigned upload: a POST of `fields` then the bundle as the `file` field, to `url`. */
export interface PresignedUpload {
  readonly url: string;
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * Where bundles go: an S3 bucket on AWS (presigned POST with a content-length range; presigned
 * GET), the local runtime's presigned-upload endpoint on one machine. The URLs carry the
 * signer's authority: whoever holds one can do that one thing until it expires.
 */
export interface BundleStore {
  presignUpload(key: string, o: { readonly maxBytes: number; readonly expiresAt: Date }): Promise<PresignedUpload>;
  presignDownload(key: string, o: { readonly expiresInSeconds: number; readonly fileName: string }): Promise<{ url: string; expiresAt: string }>;
}
