/**
 * Uploads a bundle with a presigned S3 POST: the signed form fields first, the file last (S3
 * ignores fields after `file`), as multipart/form-data. S3 answers 204 (or 200/201 with
 * success_action_status); anything else is an error whose XML says why (EntityTooLarge,
 * AccessDenied for an expired policy).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
 */
export async function uploadBundle(url: string, fields: Readonly<Record<string, string>>, tgz: Buffer, o: { fetch?: typeof fetch; timeoutMs: number }): Promise<void> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(tgz)], { type: fields['Content-Type'] ?? 'application/gzip' }), 'bundle.tar.gz');
  const res = await (o.fetch ?? fetch)(url, { method: 'POST', body: form, signal: AbortSignal.timeout(o.timeoutMs) });
  if (res.ok) {
    await res.arrayBuffer().catch(() => undefined);
    return;
  }
  const text = (await res.text().catch(() => '')).slice(0, 2000);
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  throw new Error(`upload refused: HTTP ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : text && !code ? `: ${text.slice(0, 300)}` : ''}`);
}
