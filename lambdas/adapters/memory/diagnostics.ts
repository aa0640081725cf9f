import type { DiagnosticsRecord } from '../../domain/diagnostics.js';
import type { BundleStore, DiagnosticsRepository, PresignedUpload } from '../../ports/diagnostics.js';

export class MemoryDiagnosticsRepository implements DiagnosticsRepository {
  readonly items = new Map<string, DiagnosticsRecord>();
  private key = (hostId: string, id: string) => `${hostId}/${id}`;

  async create(record: DiagnosticsRecord): Promise<boolean> {
    const k = this.key(record.hostId, record.id);
    if (this.items.has(k)) return false;
    this.items.set(k, structuredClone(record));
    return true;
  }

  async get(hostId: string, id: string): Promise<DiagnosticsRecord | undefined> {
    const r = this.items.get(this.key(hostId, id));
    return r ? structuredClone(r) : undefined;
  }

  async listByHost(hostId: string, limit: number): Promise<{ items: DiagnosticsRecord[]; more: boolean }> {
    const all = [...this.items.values()].filter((r) => r.hostId === hostId);
    return { items: all.slice(0, limit).map((r) => structuredClone(r)), more: all.length > limit };
  }

  async update(next: DiagnosticsRecord): Promise<boolean> {
    const k = this.key(next.hostId, next.id);
    if (this.items.get(k)?.version !== next.version - 1) return false;
    this.items.set(k, structuredClone(next));
    return true;
  }
}

/** Records what was presigned; the URLs point nowhere. */
export class MemoryBundleStore implements BundleStore {
  readonly uploads: { key: string; maxBytes: number; expiresAt: Date }[] = [];
  readonly downloads: string[] = [];

  async presignUpload(key: string, o: { maxBytes: number; expiresAt: Date }): Promise<PresignedUpload> {
    this.uploads.push({ key, ...o });
    return { url: 'https://bundles.invalid/', fields: { key, policy: 'memory' } };
  }

  async presignDownload(key: string, o: { expiresInSeconds: number }): Promise<{ url: string; expiresAt: string }> {
    this.downloads.push(key);
    return { url: `https://bundles.invalid/${key}`, expiresAt: new Date(Date.parse('2030-01-01T00:00:00Z') + o.expiresInSeconds * 1000).toISOString() };
  }
}
