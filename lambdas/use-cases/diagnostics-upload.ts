import type { CommandRecord } from '../domain/command.js';
import { COLLECT_DIAGNOSTICS } from '../domain/diagnostics.js';
import { UnavailableError } from '../domain/errors.js';
import type { BundleStore } from '../ports/diagnostics.js';

type Params = CommandRecord['params'];

/**
 * A collect-diagnostics command is stored with the bundle's key and bound only; the presigned
 * upload form (a signed policy: that key, that size, until the command's deadline) is made
 * when the command goes on the wire, so it never rests in the state table. Other commands pass.
 */
export async function withUploadForm(deps: { readonly bundles?: Pick<BundleStore, 'presignUpload'> }, c: CommandRecord, params: Params): Promise<Params> {
  if (c.type !== COLLECT_DIAGNOSTICS || typeof params.objectKey !== 'string') return params;
  if (!deps.bundles) {
    throw new UnavailableError('bundle-store-missing', `command ${c.commandId} for ${c.hostId} needs a presigned upload, and this function has no diagnostics bucket; it stays queued`);
  }
  const { objectKey, ...rest } = params;
  const maxBytes = typeof params.maxBytes === 'number' ? params.maxBytes : 0;
  const form = await deps.bundles.presignUpload(objectKey, { maxBytes, expiresAt: new Date(c.deadline) });
  return { ...rest, uploadUrl: form.url, uploadFields: JSON.stringify(form.fields) };
}
