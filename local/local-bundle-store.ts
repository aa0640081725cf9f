import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { MAX_BUNDLE_BYTES } from '../lambdas/domain/diagnostics.js';
import type { BundleStore, PresignedUpload } from '../lambdas/ports/diagnostics.js';

/**
 * The diagnostics bucket on one machine: presigned POST uploads and presigned GET downloads
 * served by the runtime's own HTTP server under `/_local/s3/`, objects written under
 * `<dataDir>/bundles/`. Same semantics as S3 (AWS's POST policy and presigned URL rules,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html and
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html):
 * - the policy (base64 JSON: expiration, conditions) is signed; a changed policy, key or
 *   signature is refused 403 SignatureDoesNotMatch, and nothing is written;
 * - after `expiration` the POST is refused 403 AccessDenied ("Policy expired");
 * - a file outside `content-length-range` is refused 400 EntityTooLarge / EntityTooSmall;
 * - success is 204 No Content (S3's default success_action_status);
 * - a presigned GET past X-Amz-Expires is refused 403 AccessDenied ("Request has expired"),
 *   a tampered one 403 SignatureDoesNotMatch, a missing object 404 NoSuchKey.
 * The signing key is local (HMAC-SHA256, `<dataDir>/bundle-signing-key`, 0600), standing in
 * for the Lambda role's credentials.
 */
export const BUNDLE_PATH = '/_local/s3/diagnostics-bundles';
/** Form overhead allowed above the largest bundle before the body is refused unread. */
const FORM_OVERHEAD = 64 * 1024;
const KEY = /^diagnostics\/[a-z0-9-]+\/[a-z0-9-]+\/[a-z0-9-]+\.tar\.gz$/;

interface Policy {
  readonly expiration: string;
  readonly conditions: readonly unknown[];
}

function s3Error(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

export class LocalBundleStore implements BundleStore {
  private readonly key: Buffer;
  private readonly dir: string;

  constructor(dataDir: string, private readonly baseUrl: () => string, private readonly now: () => Date = () => new Date()) {
    this.dir = path.join(dataDir, 'bundles');
    const keyFile = path.join(dataDir, 'bundle-signing-key');
    if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    this.key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
  }

  private sign(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('hex');
  }

  private same(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  }

  async presignUpload(key: string, o: { maxBytes: number; expiresAt: Date }): Promise<PresignedUpload> {
    const policy = Buffer.from(JSON.stringify({
      expiration: o.expiresAt.toISOString(),
      conditions: [{ key }, ['content-length-range', 1, o.maxBytes], { 'Content-Type': 'application/gzip' }],
    } satisfies Policy)).toString('base64');
    return {
      url: `${this.baseUrl()}${BUNDLE_PATH}`,
      fields: { key, 'Content-Type': 'application/gzip', 'X-Amz-Algorithm': 'EDGEFLEET-LOCAL-HMAC-SHA256', Policy: policy, 'X-Amz-Signature': this.sign(policy) },
    };
  }

  async presignDownload(key: string, o: { expiresInSeconds: number }): Promise<{ url: string; expiresAt: string }> {
    const expires = Math.floor(this.now().getTime() / 1000) + o.expiresInSeconds;
    const sig = this.sign(`GET\n${key}\n${expires}`);
    return { url: `${this.baseUrl()}${BUNDLE_PATH}/${key}?X-Amz-Expires=${expires}&X-Amz-Signature=${sig}`, expiresAt: new Date(expires * 1000).toISOString() };
  }

  /** Serves `/_local/s3/…` requests; false for any other path (the API gateway takes those). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== BUNDLE_PATH && !url.pathname.startsWith(`${BUNDLE_PATH}/`)) return false;
    const fail = (e: unknown) => { if (!res.headersSent) s3Error(res, 500, 'InternalError', String((e as Error)?.message ?? e).slice(0, 200)); };
    if (req.method === 'POST' && url.pathname === BUNDLE_PATH) this.upload(req, res).catch(fail);
    else if (req.method === 'GET' && url.pathname.startsWith(`${BUNDLE_PATH}/`)) this.download(url, res).catch(fail);
    else {
      req.resume();
      s3Error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
    return true;
  }

  private async upload(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const limit = MAX_BUNDLE_BYTES + FORM_OVERHEAD;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limit) {
      req.resume();
      return s3Error(res, 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const body = await new Promise<Buffer | undefined>((resolve, reject) => {
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          req.destroy();
          resolve(undefined);
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
    if (!body) return s3Error(res, 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(body), { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
    } catch {
      return s3Error(res, 400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
    }
    const field = (name: string) => { const v = form.get(name); return typeof v === 'string' ? v : undefined; };
    const policyText = field('Policy') ?? '';
    const signature = field('X-Amz-Signature') ?? '';
    if (!policyText || !signature || !this.same(this.sign(policyText), signature)) {
      return s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    let policy: Policy;
    try {
      policy = JSON.parse(Buffer.from(policyText, 'base64').toString('utf8')) as Policy;
    } catch {
      return s3Error(res, 400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
    }
    if (!(Date.parse(policy.expiration) > this.now().getTime())) return s3Error(res, 403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    const file = form.get('file');
    if (!file || typeof file === 'string') return s3Error(res, 400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
    const key = field('key') ?? '';
    for (const c of policy.conditions) {
      if (Array.isArray(c) && c[0] === 'content-length-range') {
        const [, min, max] = c as [string, number, number];
        if (file.size > max) return s3Error(res, 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
        if (file.size < min) return s3Error(res, 400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size');
      } else if (c && typeof c === 'object') {
        for (const [name, value] of Object.entries(c)) {
          if (field(name) !== value) return s3Error(res, 403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ["eq", "$${name}", "${String(value)}"]`);
        }
      }
    }
    if (!KEY.test(key)) return s3Error(res, 400, 'InvalidArgument', 'The key is not a diagnostics bundle key.');
    const target = path.join(this.dir, key);
    mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, new Uint8Array(await file.arrayBuffer()), { mode: 0o600 });
    await rename(tmp, target);
    res.writeHead(204);
    res.end();
  }

  private async download(url: URL, res: http.ServerResponse): Promise<void> {
    const key = decodeURIComponent(url.pathname.slice(BUNDLE_PATH.length + 1));
    const expires = url.searchParams.get('X-Amz-Expires') ?? '';
    const sig = url.searchParams.get('X-Amz-Signature') ?? '';
    if (!/^\d{1,12}$/.test(expires) || !this.same(this.sign(`GET\n${key}\n${expires}`), sig)) {
      return s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    if (Number(expires) * 1000 <= this.now().getTime()) return s3Error(res, 403, 'AccessDenied', 'Request has expired');
    if (!KEY.test(key)) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    const data = await readFile(path.join(this.dir, key)).catch(() => undefined);
    if (!data) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': String(data.length) });
    res.end(data);
  }
}
