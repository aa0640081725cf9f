import { collectDiagnosticsParams } from '../../lambdas/contracts/mqtt.js';
import { InvalidParameter } from '../kubernetes.js';
import { collectBundle, type DiagnosticsSource } from './collect.js';
import { uploadBundle } from './upload.js';

type Params = Readonly<Record<string, string | number | boolean>>;

export interface CollectParams {
  readonly since: Date;
  readonly uploadUrl: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly maxBytes: number;
}

/** The command's parameters, checked again on the host (the contract's schema; fields a JSON object of strings). */
export function parseCollectParams(p: Params): CollectParams {
  const parsed = collectDiagnosticsParams.safeParse(p);
  if (!parsed.success) throw new InvalidParameter(parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; '));
  let fields: unknown;
  try {
    fields = JSON.parse(parsed.data.uploadFields);
  } catch {
    fields = undefined;
  }
  if (!fields || typeof fields !== 'object' || Array.isArray(fields) || Object.values(fields).some((v) => typeof v !== 'string')) {
    throw new InvalidParameter('uploadFields: must be a JSON object of strings (the presigned form fields)');
  }
  return { since: new Date(parsed.data.since), uploadUrl: parsed.data.uploadUrl, fields: fields as Record<string, string>, maxBytes: parsed.data.maxBytes };
}

export interface DiagnosticsRun {
  readonly hostId: string;
  readonly commandId: string;
  readonly deadline: string;
  readonly now: () => Date;
  readonly progress: (detail: string, percent: number) => Promise<void>;
  readonly fetch?: typeof fetch;
}

/** Collects, redacts, packs and uploads; returns the succeeded result's detail and the bundle's facts. */
export async function runDiagnostics(source: DiagnosticsSource | undefined, params: Params, o: DiagnosticsRun): Promise<{ detail: string; bundle: { bytes: number; sha256: string } }> {
  const p = parseCollectParams(params);
  if (!source) throw new Error('this host offers no diagnostics source to the agent (an executor without collection support); nothing was collected');
  await o.progress(`collecting journals, Kairos state, disk, network and Kubernetes since ${p.since.toISOString()}`, 10);
  const bundle = await collectBundle(source, { hostId: o.hostId, commandId: o.commandId, since: p.since, maxBytes: p.maxBytes, now: () => o.now().getTime() });
  const items = bundle.manifest.items;
  const failed = items.filter((i) => i.error !== undefined).map((i) => i.file);
  const redactions = items.reduce((n, i) => n + i.redactions, 0);
  const summary = `${items.length} items (${failed.length ? `${failed.length} failed: ${failed.join(', ')}` : 'none failed'}), ${redactions} secrets redacted, ${bundle.tgz.length} bytes`;
  await o.progress(`collected ${summary}; uploading`, 60);
  const timeoutMs = Math.max(1000, Date.parse(o.deadline) - o.now().getTime() - 1000);
  await uploadBundle(p.uploadUrl, p.fields, bundle.tgz, { timeoutMs, ...(o.fetch ? { fetch: o.fetch } : {}) });
  return { detail: `bundle uploaded: ${summary}, sha256 ${bundle.sha256}`.slice(0, 4000), bundle: { bytes: bundle.tgz.length, sha256: bundle.sha256 } };
}
