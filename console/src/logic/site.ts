/**
 * Where the console runs. On AWS the deployment writes `/config.json` next to index.html with
 * the API's URL (another origin); on the local runtime there is none and the API is the console's
 * own origin. Read once at start (main.tsx).
 */
export interface SiteConfig {
  /** The HTTP API's base URL without a trailing slash, or undefined: the console's own origin. */
  readonly apiUrl?: string;
}

export async function loadSiteConfig(fetchFn: (input: string, init?: RequestInit) => Promise<Response>): Promise<SiteConfig> {
  let r: Response;
  try {
    r = await fetchFn('/config.json', { headers: { accept: 'application/json' } });
  } catch {
    return {};
  }
  if (!r.ok || !(r.headers.get('content-type') ?? '').includes('json')) return {};
  const body: unknown = await r.json().catch(() => undefined);
  const apiUrl = typeof body === 'object' && body !== null ? (body as { apiUrl?: unknown }).apiUrl : undefined;
  if (typeof apiUrl !== 'string') return {};
  try {
    const u = new URL(apiUrl);
    if (u.protocol !== 'https:') return {};
    return { apiUrl: `${u.origin}${u.pathname.replace(/\/$/, '')}` };
  } catch {
    return {};
  }
}
