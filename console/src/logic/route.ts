/** The console's pages, addressed by the location's fragment (`#/hosts/sim-1`), so the server serves one index.html. */
export type Route =
  | { readonly page: 'overview' }
  | { readonly page: 'hosts'; readonly params: URLSearchParams }
  | { readonly page: 'host'; readonly hostId: string }
  | { readonly page: 'approvals' }
  | { readonly page: 'sign-in'; readonly code?: string }
  | { readonly page: 'not-found'; readonly path: string };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = raw.split('?', 2);
  const params = new URLSearchParams(query);
  if (path === '/' || path === '') return { page: 'overview' };
  if (path === '/hosts') return { page: 'hosts', params };
  if (path === '/approvals') return { page: 'approvals' };
  if (path === '/sign-in') return { page: 'sign-in', ...(params.get('code') ? { code: params.get('code')! } : {}) };
  const host = /^\/hosts\/([^/]+)$/.exec(path);
  if (host) {
    try {
      return { page: 'host', hostId: decodeURIComponent(host[1]!) };
    } catch {
      return { page: 'not-found', path };
    }
  }
  return { page: 'not-found', path };
}
