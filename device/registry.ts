import { validateImage } from './image-ref.js';

/**
 * Is an OCI image reachable from this host? A manifest HEAD against the registry's v2 API
 * (`HEAD /v2/<repository>/manifests/<tag|digest>`), following the anonymous Bearer token flow
 * when the registry answers 401 with `WWW-Authenticate: Bearer realm=…,service=…` (Docker
 * Hub, quay.io, ghcr.io). Bounded by a timeout; nothing is pulled.
 */

export interface ImageReference {
  /** Host[:port] of the registry (docker.io becomes registry-1.docker.io). */
  readonly registry: string;
  readonly repository: string;
  /** Tag or sha256 digest. */
  readonly reference: string;
}

export function parseImageReference(image: string): ImageReference {
  validateImage(image);
  const [name, digest] = image.split('@') as [string, string | undefined];
  const parts = name.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) registry = parts.shift()!;
  let path = parts.join('/');
  let tag = 'latest';
  const colon = path.lastIndexOf(':');
  if (colon > 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  if (registry === 'docker.io') {
    registry = 'registry-1.docker.io';
    if (!path.includes('/')) path = `library/${path}`;
  }
  return { registry, repository: path, reference: digest ?? tag };
}

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** `Bearer realm="https://auth.docker.io/token",service="registry.docker.io"` → its parameters. */
export function parseBearerChallenge(header: string | null): Record<string, string> | undefined {
  if (!header || !/^bearer\s/i.test(header)) return undefined;
  const out: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/([A-Za-z]+)="([^"]*)"/g)) out[m[1]!.toLowerCase()] = m[2]!;
  return out.realm ? out : undefined;
}

export interface ReachabilityOptions {
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
  /** `https` on a real host; `http` only for a loopback registry in tests. */
  readonly scheme?: 'https' | 'http';
}

const seconds = (ms: number) => (ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`);

/** Resolves when the manifest exists; rejects with what went wrong (for the operator). */
export async function checkImageReachable(image: string, o: ReachabilityOptions = {}): Promise<void> {
  const f = o.fetch ?? fetch;
  const ref = parseImageReference(image);
  const signal = AbortSignal.timeout(o.timeoutMs ?? 30_000);
  const url = `${o.scheme ?? 'https'}://${ref.registry}/v2/${ref.repository}/manifests/${ref.reference}`;
  const head = (authorization?: string) => f(url, { method: 'HEAD', redirect: 'follow', signal, headers: { accept: ACCEPT, ...(authorization ? { authorization } : {}) } });
  try {
    let res = await head();
    if (res.status === 401) {
      const challenge = parseBearerChallenge(res.headers.get('www-authenticate'));
      if (!challenge) throw new Error(`${ref.registry} wants credentials (401 without a Bearer challenge): anonymous pulls are not allowed`);
      const tokenUrl = new URL(challenge.realm!);
      if (challenge.service) tokenUrl.searchParams.set('service', challenge.service);
      tokenUrl.searchParams.set('scope', `repository:${ref.repository}:pull`);
      const t = await f(tokenUrl, { signal });
      if (!t.ok) throw new Error(`the token service ${tokenUrl.host} refused an anonymous pull token (HTTP ${t.status})`);
      const body = (await t.json()) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      if (!token) throw new Error(`the token service ${tokenUrl.host} returned no token`);
      res = await head(`Bearer ${token}`);
    }
    if (res.status === 404) throw new Error(`${ref.repository}:${ref.reference} not found on ${ref.registry} (HTTP 404)`);
    if (res.status === 401 || res.status === 403) throw new Error(`${ref.registry} refused an anonymous pull of ${ref.repository} (HTTP ${res.status})`);
    if (!res.ok) throw new Error(`${ref.registry} answered HTTP ${res.status}`);
  } catch (e) {
    if ((e as Error).name === 'TimeoutError' || signal.aborted) throw new Error(`${ref.registry} did not answer within ${seconds(o.timeoutMs ?? 30_000)}`);
    if ((e as Error).message.startsWith('fetch failed')) throw new Error(`cannot reach ${ref.registry}: ${String((e as { cause?: { code?: string; message?: string } }).cause?.code ?? (e as { cause?: Error }).cause?.message ?? 'network error')}`);
    throw e;
  }
}
