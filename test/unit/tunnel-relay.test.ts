/**
 * The local Secure Tunneling relay with the agent's destination side and the CLI's source side,
 * on loopback: bytes round-trip from a client of the source port to a TCP echo server standing
 * in for sshd; the service's handshake rules, single-use tokens, CloseTunnel and expiry.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import WebSocket from 'ws';
import { connectDestination, type DestinationSession } from '../../device/tunnel-destination.js';
import { startSource, type SourceSession } from '../../cli/tunnel-source.js';
import { encodeFrame } from '../../lambdas/contracts/tunnel-frames.js';
import { startTunnelRelay, type TunnelRelay } from '../../local/tunnel-relay.js';

let relay: TunnelRelay;
let echo: Server;
let echoPort = 0;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  relay = await startTunnelRelay();
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as { port: number }).port;
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
afterAll(async () => {
  await relay.stop();
  await new Promise<void>((r) => echo.close(() => r()));
});

function destination(token: string): DestinationSession {
  const d = connectDestination({ endpoint: relay.endpoint, accessToken: token, serviceId: 'SSH', port: echoPort });
  cleanups.push(() => d.close());
  return d;
}
async function source(token: string): Promise<SourceSession> {
  const s = await startSource({ endpoint: relay.endpoint, accessToken: token, serviceId: 'SSH' });
  cleanups.push(() => s.close());
  return s;
}

/** Sends `data` through the source port and resolves with what comes back once `data.length` bytes arrived. */
function roundTrip(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const c: Socket = connect(port, '127.0.0.1', () => c.write(data));
    c.on('data', (b: Buffer) => {
      chunks.push(b);
      got += b.length;
      if (got >= data.length) { c.end(); resolve(Buffer.concat(chunks)); }
    });
    c.on('error', reject);
  });
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const upgradeStatus = (url: string, headers: Record<string, string>, protocols: string[] = ['aws.iot.securetunneling-3.0']): Promise<number | 'open'> =>
  new Promise((resolve) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.on('open', () => { ws.close(); resolve('open'); });
    ws.on('unexpected-response', (_q, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('error', () => undefined);
  });

describe('a tunnel through the local relay', () => {
  it('carries bytes both ways between the source port and the destination service, over several connections', async () => {
    const t = relay.open('h-1', ['SSH'], 5);
    destination(t.destinationAccessToken);
    const s = await source(t.sourceAccessToken);
    await waitFor(() => relay.describe(t.tunnelId)!.connected.destination);
    const big = randomBytes(200_000); // several DATA messages (63 KB payload cap)
    expect((await roundTrip(s.port, big)).equals(big)).toBe(true);
    // Two connections at once: the second is a CONNECTION_START on the same stream (V3).
    const [a, b] = await Promise.all([roundTrip(s.port, Buffer.from('first')), roundTrip(s.port, Buffer.from('second'))]);
    expect([a.toString(), b.toString()]).toEqual(['first', 'second']);
  });

  it('spends an access token on the first handshake: a second connection with it is refused', async () => {
    const t = relay.open('h-1', ['SSH'], 5);
    await source(t.sourceAccessToken);
    await expect(startSource({ endpoint: relay.endpoint, accessToken: t.sourceAccessToken, serviceId: 'SSH' })).rejects.toThrow(/HTTP 403/);
  });

  it.each<[string, string, (t: { sourceAccessToken: string; destinationAccessToken: string }) => Record<string, string>, number]>([
    ['another path', '/other?local-proxy-mode=source', (t) => ({ 'access-token': t.sourceAccessToken }), 400],
    ['no mode', '/tunnel', (t) => ({ 'access-token': t.sourceAccessToken }), 400],
    ['no token', '/tunnel?local-proxy-mode=source', () => ({}), 400],
    ['a token of the other mode', '/tunnel?local-proxy-mode=source', (t) => ({ 'access-token': t.destinationAccessToken }), 403],
    ['two tokens (header and cookie)', '/tunnel?local-proxy-mode=source', (t) => ({ 'access-token': t.sourceAccessToken, cookie: `awsiot-tunnel-token=${t.sourceAccessToken}` }), 400],
    ['an unknown token', '/tunnel?local-proxy-mode=source', () => ({ 'access-token': 'nope' }), 403],
  ])('refuses a handshake with %s', async (_name, path, headers, status) => {
    const t = relay.open('h-1', ['SSH'], 5);
    expect(await upgradeStatus(`${relay.endpoint}${path}`, headers(t))).toBe(status);
  });

  it('refuses a handshake without the secure tunneling subprotocol, and accepts the token in the cookie', async () => {
    const t = relay.open('h-1', ['SSH'], 5);
    expect(await upgradeStatus(`${relay.endpoint}/tunnel?local-proxy-mode=source`, { 'access-token': t.sourceAccessToken }, ['chat'])).toBe(400);
    expect(await upgradeStatus(`${relay.endpoint}/tunnel?local-proxy-mode=source`, { cookie: `awsiot-tunnel-token=${t.sourceAccessToken}` })).toBe('open');
  });

  it('closes a destination that sends STREAM_START (only a source may)', async () => {
    const t = relay.open('h-1', ['SSH'], 5);
    const ws = new WebSocket(`${relay.endpoint}/tunnel?local-proxy-mode=destination`, ['aws.iot.securetunneling-3.0'], { headers: { 'access-token': t.destinationAccessToken } });
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('open', () => ws.send(encodeFrame({ type: 'STREAM_START', streamId: 1, serviceId: 'SSH', connectionId: 1 })));
    expect(await closed).toBe(1008);
  });

  it('CloseTunnel disconnects both sides and their tokens stop working', async () => {
    const t = relay.open('h-1', ['SSH'], 5);
    const d = destination(t.destinationAccessToken);
    const s = await source(t.sourceAccessToken);
    expect(relay.close(t.tunnelId)).toBe(true);
    await expect(s.ended).resolves.toMatch(/tunnel closed/);
    await expect(d.ended).resolves.toMatch(/tunnel closed/);
    expect(relay.describe(t.tunnelId)!.status).toBe('CLOSED');
    expect(relay.close(t.tunnelId)).toBe(false);
  });

  it('closes a tunnel when its lifetime passes', async () => {
    const t = relay.open('h-1', ['SSH'], 0.01); // 600 ms
    const s = await source(t.sourceAccessToken);
    await expect(s.ended).resolves.toMatch(/tunnel closed/);
    expect(relay.describe(t.tunnelId)!.status).toBe('CLOSED');
    expect(await upgradeStatus(`${relay.endpoint}/tunnel?local-proxy-mode=destination`, { 'access-token': t.destinationAccessToken })).toBe(403);
  });

  it('a source refuses a tunnel that does not offer its service', async () => {
    const t = relay.open('h-1', ['RDP'], 5);
    await expect(startSource({ endpoint: relay.endpoint, accessToken: t.sourceAccessToken, serviceId: 'SSH' })).rejects.toThrow(/offers \["RDP"\], not SSH/);
  });
});
