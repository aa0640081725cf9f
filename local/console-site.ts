/**
 * The web console on the local runtime's port: the built single-page app (console/dist) at `/`
 * with the security headers CloudFront sets on AWS, and the local sign-in: the console link
 * `npm start` prints carries a one-time code, exchanged once (POST /local/console/sign-in) for an
 * admin access token of the local issuer. Nothing here is an API route (no JWT, not on AWS).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleSecurityHeaders } from '../lib/console-headers.js';

export const CONSOLE_SOURCE_DIR = fileURLToPath(new URL('../console', import.meta.url));
export const CONSOLE_DIST_DIR = path.join(CONSOLE_SOURCE_DIR, 'dist');
export const CONSOLE_SIGN_IN_PATH = '/local/console/sign-in';
/** The console reads where the API is from here (console/src/logic/site.ts): `{}` = this origin. */
export const CONSOLE_CONFIG_PATH = '/config.json';

/** No inline script or style, nothing from elsewhere; the API is on the same origin (lib/console-headers.ts, shared with CloudFront). */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = consoleSecurityHeaders();

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.woff2': 'font/woff2',
};

/** Builds the console with Vite when `dist/index.html` is missing (or always, with `force`). */
export function ensureConsoleBuilt(opts: { force?: boolean; log?: (line: string) => void } = {}): void {
  if (!opts.force && existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'))) return;
  const vite = fileURLToPath(new URL('../node_modules/vite/bin/vite.js', import.meta.url));
  if (!existsSync(vite)) throw new Error(`the web console is not built and Vite is not installed (${vite}); run npm ci, then npm run console:build`);
  opts.log?.('building the web console (console/dist)…');
  try {
    execFileSync(process.execPath, [vite, 'build', CONSOLE_SOURCE_DIR], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(`the web console did not build (npm run console:build shows the same): ${String(err.stderr ?? '') || String(err.stdout ?? '') || String(e)}`);
  }
}

export interface ConsoleSite {
  /** Serves the console and the sign-in exchange; true when it took the request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** A new one-time sign-in code (the previous one stops working). */
  newSignInCode(): string;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...CONSOLE_HEADERS, ...extra });
  res.end(body);
}

/** `mint` signs the access token handed to the browser that brings the current code. */
export function consoleSite(mint: () => Promise<string>, distDir = CONSOLE_DIST_DIR): ConsoleSite {
  let code: Buffer | undefined;
  const root = path.resolve(distDir);
  const file = (urlPath: string): string | undefined => {
    const p = path.resolve(root, `.${urlPath === '/' ? '/index.html' : urlPath}`);
    return p.startsWith(`${root}${path.sep}`) && existsSync(p) ? p : undefined;
  };
  function signIn(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => { size += c.length; if (size <= 1024) chunks.push(c); });
    req.on('end', () => {
      let given: unknown;
      try { given = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code?: unknown }).code; } catch { given = undefined; }
      const g = typeof given === 'string' ? Buffer.from(given) : Buffer.alloc(0);
      const problem = (status: number, c: string, detail: string) => send(res, status, 'application/problem+json', JSON.stringify({ type: 'about:blank', title: 'Sign-in refused', status, code: c, detail }));
      if (!code || g.length !== code.length || !timingSafeEqual(g, code)) {
        return problem(401, 'sign-in-code-used', 'this sign-in link was already used or belongs to an earlier start of the control plane; paste the admin token from .edgefleet/local.json, or restart `npm start` for a new link');
      }
      code = undefined;
      mint().then((token) => send(res, 200, 'application/json', JSON.stringify({ token })), () => problem(500, 'sign-in-failed', 'the local issuer could not sign a token; check the control plane\'s log'));
    });
  }
  return {
    newSignInCode() {
      const c = randomBytes(18).toString('base64url');
      code = Buffer.from(c);
      return c;
    },
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://local');
      if (url.pathname === CONSOLE_SIGN_IN_PATH && req.method === 'POST') { signIn(req, res); return true; }
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      // On AWS the deployment writes the API's URL here; locally the API is this origin.
      if (url.pathname === CONSOLE_CONFIG_PATH) { send(res, 200, 'application/json', req.method === 'HEAD' ? '' : '{}'); return true; }
      if (url.pathname !== '/' && url.pathname !== '/index.html' && !url.pathname.startsWith('/assets/')) return false;
      const f = file(url.pathname);
      if (!f) {
        if (url.pathname.startsWith('/assets/')) send(res, 404, 'text/plain; charset=utf-8', 'not found');
        else send(res, 503, 'text/plain; charset=utf-8', 'The web console is not built: run `npm run console:build` (npm start builds it when it is missing), then reload.');
        return true;
      }
      // Hashed asset names never change content: cache them; index.html always fresh.
      send(res, 200, TYPES[path.extname(f)] ?? 'application/octet-stream', req.method === 'HEAD' ? '' : readFileSync(f),
        url.pathname.startsWith('/assets/') ? { 'cache-control': 'public, max-age=31536000, immutable' } : {});
      return true;
    },
  };
}
