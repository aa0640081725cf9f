import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkImageReachable, parseBearerChallenge, parseImageReference } from '../../../device/registry.js';

/** Image reachability (preflight): reference parsing and the manifest HEAD with the anonymous token flow, against a loopback registry. */

describe('image references', () => {
  it.each([
    ['quay.io/kairos/ubuntu:24.04-v3.5.0', { registry: 'quay.io', repository: 'kairos/ubuntu', reference: '24.04-v3.5.0' }],
    ['ubuntu', { registry: 'registry-1.docker.io', repository: 'library/ubuntu', reference: 'latest' }],
    ['kairos/ubuntu:v1', { registry: 'registry-1.docker.io', repository: 'kairos/ubuntu', reference: 'v1' }],
    ['registry.local:5000/os/img:t', { registry: 'registry.local:5000', repository: 'os/img', reference: 't' }],
    [`ghcr.io/a/b@sha256:${'c'.repeat(64)}`, { registry: 'ghcr.io', repository: 'a/b', reference: `sha256:${'c'.repeat(64)}` }],
  ])('%s', (image, expected) => {
    expect(parseImageReference(image)).toEqual(expected);
  });

  it.each([
    ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io"', { realm: 'https://auth.docker.io/token', service: 'registry.docker.io' }],
    ['Basic realm="x"', undefined],
    [null, undefined],
    ['Bearer service="x"', undefined],
  ])('challenge %s', (header, expected) => {
    expect(parseBearerChallenge(header)).toEqual(expected);
  });
});

describe('checkImageReachable (loopback registry)', () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  beforeEach(() => (seen.length = 0));

  /** A registry that wants an anonymous token, and knows one manifest. */
  const tokenRegistry = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/token')) {
      const u = new URL(req.url, `http://${base}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `t-${u.searchParams.get('scope')}-${u.searchParams.get('service')}` }));
      return;
    }
    if (!req.headers.authorization) {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${base}/token",service="sim-registry"` }).end();
      return;
    }
    res.writeHead(req.url === '/v2/kairos/ubuntu/manifests/v3.5.0' ? 200 : 404).end();
  };

  it('follows the anonymous token flow and HEADs the manifest', async () => {
    handler = tokenRegistry;
    await checkImageReachable(`${base}/kairos/ubuntu:v3.5.0`, { scheme: 'http', timeoutMs: 2000 });
    expect(seen).toEqual([
      'HEAD /v2/kairos/ubuntu/manifests/v3.5.0 -',
      'GET /token?service=sim-registry&scope=repository%3Akairos%2Fubuntu%3Apull -',
      'HEAD /v2/kairos/ubuntu/manifests/v3.5.0 Bearer t-repository:kairos/ubuntu:pull-sim-registry',
    ]);
  });

  it('a missing tag is named', async () => {
    handler = tokenRegistry;
    await expect(checkImageReachable(`${base}/kairos/ubuntu:v9.9.9`, { scheme: 'http', timeoutMs: 2000 })).rejects.toThrow(`kairos/ubuntu:v9.9.9 not found on ${base} (HTTP 404)`);
  });

  it('401 without a Bearer challenge: anonymous pulls not allowed', async () => {
    handler = (_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="private"' }).end();
    await expect(checkImageReachable(`${base}/private/os:v1`, { scheme: 'http', timeoutMs: 2000 })).rejects.toThrow(/wants credentials/);
  });

  it('a registry that does not answer in time is named, bounded by the timeout', async () => {
    handler = () => undefined; // never answers
    const t0 = Date.now();
    await expect(checkImageReachable(`${base}/kairos/ubuntu:v3.5.0`, { scheme: 'http', timeoutMs: 300 })).rejects.toThrow(`${base} did not answer within 300 ms`);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('nothing listening: cannot reach', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(checkImageReachable(`127.0.0.1:${port}/kairos/ubuntu:v1`, { scheme: 'http', timeoutMs: 2000 })).rejects.toThrow(`cannot reach 127.0.0.1:${port}: ECONNREFUSED`);
  });
});
