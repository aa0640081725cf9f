/**
 * The AWS IoT Secure Tunneling service on one machine: the WebSocket relay (data plane) and
 * the tunnel registry behind OpenTunnel / CloseTunnel / DescribeTunnel, on loopback.
 *
 * It behaves as AWS documents it (aws-samples/aws-iot-securetunneling-localproxy,
 * docs/V3WebSocketProtocolGuide.md; AWS IoT developer guide "Secure tunneling"):
 * - the upgrade path is `/tunnel` (anything else: 400); `local-proxy-mode` is `source` or
 *   `destination` and must match the token's mode; the access token comes in the
 *   `access-token` header or the `awsiot-tunnel-token` cookie, exactly once; the
 *   Sec-WebSocket-Protocol must offer `aws.iot.securetunneling-3.0` or `-2.0`;
 * - without a client token, an access token becomes invalid after a successful handshake
 *   (single use): a second connection with it is refused;
 * - after the handshake the service sends SERVICE_IDS with the tunnel's services;
 * - binary frames only (a text frame closes the connection); the service refuses messages a
 *   client may not send (SERVICE_IDS, SESSION_RESET, STREAM_START from a destination, stream
 *   messages with stream id 0, service ids not in the tunnel) by closing the connection;
 * - a tunnel closes on CloseTunnel or when its max lifetime passes: both peers are disconnected
 *   and its tokens stop working.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  encodeFrame, FrameReader, messageBytes, TUNNEL_PATH, TUNNEL_SUBPROTOCOLS, type TunnelMessage,
} from '../lambdas/contracts/tunnel-frames.js';

export type TunnelMode = 'source' | 'destination';
export type RelayTunnelStatus = 'OPEN' | 'CLOSED';

export interface RelayTunnel {
  readonly tunnelId: string;
  readonly thingName: string;
  readonly services: readonly string[];
  readonly createdAt: Date;
  readonly expiresAt: Date;
  status: RelayTunnelStatus;
  /** Whether each side is connected now (DescribeTunnel's sourceConnectionState / destinationConnectionState). */
  readonly connected: Record<TunnelMode, boolean>;
}

export interface OpenedTunnel {
  readonly tunnelId: string;
  readonly sourceAccessToken: string;
  readonly destinationAccessToken: string;
}

interface Tunnel extends RelayTunnel {
  /** Unused tokens by mode (removed once used: single use). */
  readonly tokens: Partial<Record<TunnelMode, string>>;
  readonly peers: Partial<Record<TunnelMode, WebSocket>>;
  timer?: NodeJS.Timeout;
}

export interface TunnelRelay {
  /** `ws://127.0.0.1:<port>`: where the agents and the CLI connect (path /tunnel). */
  readonly endpoint: string;
  open(thingName: string, services: readonly string[], maxLifetimeMinutes: number): OpenedTunnel;
  close(tunnelId: string): boolean;
  describe(tunnelId: string): RelayTunnel | undefined;
  stop(): Promise<void>;
}

/** `maxLifetimeMinutes` may be fractional here (tests use seconds); OpenTunnel takes 1..720 minutes. */
export async function startTunnelRelay(opts: { port?: number; now?: () => Date } = {}): Promise<TunnelRelay> {
  const now = opts.now ?? (() => new Date());
  const tunnels = new Map<string, Tunnel>();
  const byToken = new Map<string, { tunnel: Tunnel; mode: TunnelMode }>();

  const http: Server = createServer((_req, res) => { res.writeHead(400).end(); });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 131076,
    handleProtocols: (offered) => TUNNEL_SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
  });

  const reject = (socket: import('node:stream').Duplex, status: number, reason: string) => {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  http.on('upgrade', (req: IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://relay');
    const mode = url.searchParams.get('local-proxy-mode');
    const header = req.headers['access-token'];
    const cookie = (req.headers.cookie ?? '').split(';').map((c) => c.trim()).filter((c) => c.startsWith('awsiot-tunnel-token='));
    const tokens = [...(Array.isArray(header) ? header : header ? [header] : []), ...cookie.map((c) => c.slice('awsiot-tunnel-token='.length))];
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (url.pathname !== TUNNEL_PATH) return reject(socket, 400, 'Bad Request');
    if (mode !== 'source' && mode !== 'destination') return reject(socket, 400, 'Bad Request');
    if (tokens.length !== 1) return reject(socket, 400, 'Bad Request');
    if (!offered.some((p) => (TUNNEL_SUBPROTOCOLS as readonly string[]).includes(p))) return reject(socket, 400, 'Bad Request');
    const entry = byToken.get(tokens[0]!);
    if (!entry || entry.mode !== mode || entry.tunnel.status !== 'OPEN') return reject(socket, 403, 'Forbidden');
    // Single use: no client token is supported here, so the token is spent by this handshake.
    byToken.delete(tokens[0]!);
    delete entry.tunnel.tokens[mode];
    wss.handleUpgrade(req, socket, head, (ws) => attach(entry.tunnel, mode, ws));
  });

  function send(ws: WebSocket | undefined, m: TunnelMessage): void {
    if (ws && ws.readyState === ws.OPEN) ws.send(encodeFrame(m));
  }

  function attach(t: Tunnel, mode: TunnelMode, ws: WebSocket): void {
    const other: TunnelMode = mode === 'source' ? 'destination' : 'source';
    t.peers[mode] = ws;
    t.connected[mode] = true;
    send(ws, { type: 'SERVICE_IDS', availableServiceIds: t.services });
    const reader = new FrameReader();
    const refuse = (why: string) => ws.close(1008, why.slice(0, 120));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return refuse('text frames are not accepted');
      let messages: TunnelMessage[];
      try {
        messages = reader.push(messageBytes(data));
      } catch (e) {
        return refuse(`malformed tunnel frame: ${(e as Error).message}`);
      }
      for (const m of messages) {
        if (m.type === 'SERVICE_IDS' || m.type === 'SESSION_RESET') return refuse(`a tunnel client may not send ${m.type}`);
        if (m.type === 'STREAM_START' && mode === 'destination') return refuse('a destination may not send STREAM_START');
        if (m.type !== 'UNKNOWN' && !m.streamId) return refuse(`${m.type} without a stream id`);
        if (m.serviceId && !t.services.includes(m.serviceId)) return refuse(`service id ${m.serviceId} is not one of the tunnel's services`);
        send(t.peers[other], m);
      }
    });
    ws.on('close', () => {
      if (t.peers[mode] !== ws) return;
      delete t.peers[mode];
      t.connected[mode] = false;
      // The service tells the remaining peer its streams are gone (the guide: the proxy server may generate resets).
      send(t.peers[other], { type: 'SESSION_RESET' });
    });
    ws.on('error', () => undefined);
  }

  function close(tunnelId: string): boolean {
    const t = tunnels.get(tunnelId);
    if (!t || t.status === 'CLOSED') return false;
    t.status = 'CLOSED';
    if (t.timer) clearTimeout(t.timer);
    for (const mode of ['source', 'destination'] as const) {
      const token = t.tokens[mode];
      if (token) byToken.delete(token);
      t.peers[mode]?.close(1000, 'tunnel closed');
    }
    return true;
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;

  return {
    endpoint: `ws://127.0.0.1:${port}`,
    open(thingName, services, maxLifetimeMinutes) {
      const tunnelId = randomUUID();
      const createdAt = now();
      const token = () => randomBytes(48).toString('base64url');
      const t: Tunnel = {
        tunnelId, thingName, services: [...services], createdAt, expiresAt: new Date(createdAt.getTime() + maxLifetimeMinutes * 60_000),
        status: 'OPEN', connected: { source: false, destination: false }, tokens: { source: token(), destination: token() }, peers: {},
      };
      tunnels.set(tunnelId, t);
      byToken.set(t.tokens.source!, { tunnel: t, mode: 'source' });
      byToken.set(t.tokens.destination!, { tunnel: t, mode: 'destination' });
      t.timer = setTimeout(() => close(tunnelId), maxLifetimeMinutes * 60_000);
      t.timer.unref();
      return { tunnelId, sourceAccessToken: t.tokens.source!, destinationAccessToken: t.tokens.destination! };
    },
    close,
    describe: (tunnelId) => tunnels.get(tunnelId),
    async stop() {
      for (const id of tunnels.keys()) close(id);
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

