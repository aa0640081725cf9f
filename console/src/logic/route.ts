/** The console's pages, addressed by the location's fragment (`#/hosts/sim-1`), so the server serves one index.html. */
export type Route =
  | { readonly page: 'overview' }
  | { readonly page: 'hosts'; readonly params: URLSearchParams }
  | { readonly page: 'host'; readonly hostId: string }
  | { readonly page: 'approvals' }
  | { readonly page: 'clusters' }
  | { readonly page: 'cluster'; readonly clusterId: string }
  | { readonly page: 'operations'; readonly params: URLSearchParams }
  | { readonly page: 'operation'; readonly operationId: string }
  | { readonly page: 'rollouts'; readonly params: URLSearchParams }
  | { readonly page: 'rollout'; readonly rolloutId: string }
  | { readonly page: 'rollout-create' }
  | { readonly page: 'audit' }
  | { readonly page: 'profiles' }
  | { readonly page: 'tokens' }
  | { readonly page: 'sign-in'; readonly code?: string }
  | { readonly page: 'not-found'; readonly path: string };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = raw.split('?', 2);
  const params = new URLSearchParams(query);
  if (path === '/' || path === '') return { page: 'overview' };
  if (path === '/hosts') return { page: 'hosts', params };
  if (path === '/approvals') return { page: 'approvals' };
  if (path === '/clusters') return { page: 'clusters' };
  if (path === '/audit') return { page: 'audit' };
  if (path === '/operations') return { page: 'operations', params };
  if (path === '/rollouts') return { page: 'rollouts', params };
  if (path === '/rollouts/new') return { page: 'rollout-create' };
  if (path === '/profiles') return { page: 'profiles' };
  if (path === '/tokens') return { page: 'tokens' };
  if (path === '/sign-in') return { page: 'sign-in', ...(params.get('code') ? { code: params.get('code')! } : {}) };
  const item = /^\/(hosts|clusters|operations|rollouts)\/([^/]+)$/.exec(path);
  if (item) {
    try {
      const id = decodeURIComponent(item[2]!);
      if (item[1] === 'operations') return { page: 'operation', operationId: id };
      if (item[1] === 'rollouts') return { page: 'rollout', rolloutId: id };
      return item[1] === 'hosts' ? { page: 'host', hostId: id } : { page: 'cluster', clusterId: id };
    } catch {
      return { page: 'not-found', path };
    }
  }
  return { page: 'not-found', path };
}
