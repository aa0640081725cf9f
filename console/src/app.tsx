/** The shell: skip link, navigation, who is signed in with which role, and the page of the address. */
import { useCallback, useEffect, useState } from 'react';
import { useToken } from './api/client.js';
import { parseRoute, type Route } from './logic/route.js';
import { capabilities, roleIn, sessionFromToken, type Session } from './logic/session.js';
import { Overview } from './pages/overview.js';
import { Hosts } from './pages/hosts.js';
import { HostPage } from './pages/host.js';
import { Approvals } from './pages/approvals.js';
import { SignIn, useOidc } from './pages/sign-in.js';
import type { SiteConfig } from './logic/site.js';
import { Clusters } from './pages/clusters.js';
import { ClusterPage } from './pages/cluster.js';
import { Audit } from './pages/audit.js';
import { Profiles } from './pages/profiles.js';
import { Tokens } from './pages/tokens.js';
import { OperationPage, Operations } from './pages/operations.js';
import { Rollouts } from './pages/rollouts.js';
import { RolloutPage } from './pages/rollout.js';
import { RolloutCreate } from './pages/rollout-create.js';

const STORE = 'edgefleet.token';
const PROJECT = 'default';

function stored(): Session | undefined {
  const t = sessionStorage.getItem(STORE);
  if (!t) return undefined;
  const s = sessionFromToken(t, Date.now() / 1000);
  return 'error' in s ? undefined : s;
}

export function App({ site = {} }: { site?: SiteConfig }) {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  const [session, setSession] = useState<Session | undefined>(stored);
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const signOut = useCallback(() => { sessionStorage.removeItem(STORE); setSession(undefined); }, []);
  useToken(session?.token, signOut);
  const onToken = useCallback((token: string) => {
    const s = sessionFromToken(token, Date.now() / 1000);
    if ('error' in s) return s.error;
    sessionStorage.setItem(STORE, s.token);
    useToken(s.token, signOut);
    setSession(s);
    location.hash = '#/';
    return undefined;
  }, [signOut]);
  const onAws = site.apiUrl !== undefined;
  const oidc = useOidc(onAws, onToken, signOut);
  useEffect(() => { document.title = `EdgeFleet — ${route.page}`; }, [route]);

  const role = session ? roleIn(session, PROJECT) : undefined;
  const can = capabilities(role);
  let page;
  if (!session || route.page === 'sign-in') page = <SignIn code={route.page === 'sign-in' ? route.code : undefined} onToken={onToken} {...(onAws ? { oidc } : {})} />;
  else if (route.page === 'overview') page = <Overview />;
  else if (route.page === 'hosts') page = <Hosts params={route.params} canOperate={can.operate} />;
  else if (route.page === 'host') page = <HostPage hostId={route.hostId} role={role} subject={session.subject} />;
  else if (route.page === 'approvals') page = <Approvals canOperate={can.operate} />;
  else if (route.page === 'clusters') page = <Clusters canOperate={can.operate} />;
  else if (route.page === 'cluster') page = <ClusterPage clusterId={route.clusterId} canOperate={can.operate} canAdminister={can.administer} />;
  else if (route.page === 'operations') page = <Operations params={route.params} />;
  else if (route.page === 'operation') page = <OperationPage operationId={route.operationId} canOperate={can.operate} />;
  else if (route.page === 'rollouts') page = <Rollouts params={route.params} canOperate={can.operate} />;
  else if (route.page === 'rollout-create') page = can.operate ? <RolloutCreate /> : <><h1>New rollout</h1><p>Starting a rollout needs the operator role. <a href="#/rollouts">All rollouts</a></p></>;
  else if (route.page === 'rollout') page = <RolloutPage rolloutId={route.rolloutId} canOperate={can.operate} />;
  else if (route.page === 'audit') page = <Audit />;
  else if (route.page === 'profiles') page = <Profiles canOperate={can.operate} />;
  else if (route.page === 'tokens') page = <Tokens canOperate={can.operate} canAdminister={can.administer} />;
  else page = <><h1>Page not found</h1><p>The console has no page {route.path}. <a href="#/">Go to the fleet overview</a>.</p></>;
  const link = (href: string, label: string, current: boolean) => <li><a href={href} aria-current={current ? 'page' : undefined}>{label}</a></li>;
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header className="top">
        <span className="brand">EdgeFleet</span>
        {session ? (
          <>
            <nav aria-label="Main">
              <ul>
                {link('#/', 'Overview', route.page === 'overview')}
                {link('#/hosts', 'Hosts', route.page === 'hosts' || route.page === 'host')}
                {link('#/approvals', 'Pending approvals', route.page === 'approvals')}
                {link('#/clusters', 'Clusters', route.page === 'clusters' || route.page === 'cluster')}
                {link('#/operations', 'Operations', route.page === 'operations' || route.page === 'operation')}
                {link('#/rollouts', 'Rollouts', route.page === 'rollouts' || route.page === 'rollout' || route.page === 'rollout-create')}
                {link('#/profiles', 'Profiles', route.page === 'profiles')}
                {link('#/tokens', 'Tokens', route.page === 'tokens')}
                {link('#/audit', 'Audit log', route.page === 'audit')}
              </ul>
            </nav>
            <span className="who">{session.subject} · <span data-testid="role">{role ?? 'no role'}</span> in {PROJECT}{role === 'viewer' ? ' (read-only)' : ''}</span>
            <button type="button" onClick={oidc.signOut}>Sign out</button>
          </>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>{page}</main>
    </>
  );
}
