/**
 * The loopback redirect listener of `edgefleet login` (RFC 8252 §7.3): an HTTP server on
 * 127.0.0.1 only, waiting for the identity provider to send the browser to
 * http://127.0.0.1:<port>/callback. It answers the browser with a short page and hands the
 * query to the caller; it serves nothing else and is closed as soon as the login ends.
 */
import { createServer, type Server } from 'node:http';
import { CliError, EXIT } from './errors.js';

export interface CallbackPage {
  readonly status: number;
  readonly title: string;
  readonly message: string;
}

export interface LoopbackListener {
  readonly port: number;
  readonly redirectUri: string;
  /**
   * Resolves with the first request to the callback path whose page says `done`; requests to
   * other paths (favicon) get 404 and are ignored.
   */
  next(respond: (params: URLSearchParams) => CallbackPage, timeoutMs: number): Promise<URLSearchParams>;
  close(): Promise<void>;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (p: CallbackPage): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>EdgeFleet: ${escapeHtml(p.title)}</title></head>` +
  `<body style="font-family:sans-serif;max-width:40em;margin:4em auto"><h1>${escapeHtml(p.title)}</h1><p>${escapeHtml(p.message)}</p></body></html>`;

export async function listenLoopback(opts: { port: number; path: string }): Promise<LoopbackListener> {
  let waiter: { respond: (params: URLSearchParams) => CallbackPage; resolve: (p: URLSearchParams) => void } | undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== opts.path || !waiter) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('Not found\n');
      return;
    }
    const w = waiter;
    waiter = undefined;
    const answer = w.respond(url.searchParams);
    res.writeHead(answer.status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' }).end(page(answer));
    w.resolve(url.searchParams);
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new CliError(`cannot receive the sign-in: port ${opts.port} on 127.0.0.1 is in use by another program`, EXIT.unexpected, [
          'what to do: stop that program (an earlier `edgefleet login` still waiting?), or pass --port with a port your identity provider accepts',
          '  (the stack\'s Cognito client accepts only the port in GET /v1/auth/config; deploy with another cliRedirectPort to change it)',
        ])
        : new CliError(`cannot listen on 127.0.0.1:${opts.port} for the sign-in redirect: ${err.message}`, EXIT.unexpected));
    });
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  let closed: Promise<void> | undefined;
  return {
    port,
    redirectUri: `http://127.0.0.1:${port}${opts.path}`,
    next: (respond, timeoutMs) => new Promise<URLSearchParams>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = undefined;
        reject(new CliError(`no sign-in arrived at http://127.0.0.1:${port}${opts.path} within ${Math.round(timeoutMs / 1000)} s; nothing was saved`, EXIT.auth, [
          'what to do: run `edgefleet login --url <ApiUrl>` again and finish signing in in the browser before the timeout',
          '  (use --no-browser to print the sign-in URL, e.g. over SSH, and --timeout <seconds> for more time)',
        ]));
      }, timeoutMs);
      waiter = { respond, resolve: (p) => { clearTimeout(timer); resolve(p); } };
    }),
    close: () => (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    })),
  };
}
