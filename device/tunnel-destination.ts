/**
 * The destination side of an AWS IoT Secure Tunneling tunnel (what localproxy does in
 * `destination` mode), following aws-samples/aws-iot-securetunneling-localproxy
 * docs/V3WebSocketProtocolGuide.md: connect to `<endpoint>/tunnel?local-proxy-mode=destination`
 * with the `access-token` header and subprotocol `aws.iot.securetunneling-3.0` (or 2.0); check
 * the SERVICE_IDS the service sends; on STREAM_START / CONNECTION_START open a TCP connection
 * to the one local service this host exposes (sshd on 127.0.0.1) and carry DATA both ways;
 * CONNECTION_RESET / STREAM_RESET / SESSION_RESET close connections, and a local close is
 * answered with CONNECTION_RESET (V3) or STREAM_RESET (a V2 peer sends no connection ids).
 *
 * It connects only to 127.0.0.1:`port`: nothing in the tunnel chooses the address.
 */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import {
  encodeFrame, FrameReader, MAX_TUNNEL_PAYLOAD, messageBytes, TUNNEL_PATH, TUNNEL_SUBPROTOCOLS, type TunnelMessage,
} from '../lambdas/contracts/tunnel-frames.js';

export interface DestinationOptions {
  /** The data endpoint: `wss://data.tunneling.iot.<region>.amazonaws.com` on AWS. */
  readonly endpoint: string;
  readonly accessToken: string;
  /** The service id this host serves (e.g. `SSH`): it must be among the tunnel's SERVICE_IDS. */
  readonly serviceId: string;
  /** The local TCP port of that service on 127.0.0.1 (sshd: 22). */
  readonly port: number;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
  /** Extra CA certificates for the endpoint's TLS (from the agent's caBundle). */
  readonly ca?: string;
  /** Disconnect after this long without data either way. */
  readonly idleMs?: number;
}

export interface DestinationSession {
  /** Resolves when the tunnel connection ends, with the reason. */
  readonly ended: Promise<string>;
  close(): void;
}

export function connectDestination(o: DestinationOptions): DestinationSession {
  const url = `${o.endpoint.replace(/\/+$/, '')}${TUNNEL_PATH}?local-proxy-mode=destination`;
  const ws = new WebSocket(url, [...TUNNEL_SUBPROTOCOLS], { headers: { 'access-token': o.accessToken }, ...(o.ca ? { ca: o.ca } : {}) });
  const log = o.log ?? (() => undefined);
  const reader = new FrameReader();
  const conns = new Map<number, Socket>();
  let stream: number | undefined;
  /** A V2 peer: its STREAM_START carried no connection id. */
  let v2 = false;

  let idleTimer: NodeJS.Timeout | undefined;
  let idled = false;
  const touch = () => {
    if (!o.idleMs) return;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => { idled = true; ws.close(1000, 'idle timeout'); }, o.idleMs);
    idleTimer.unref();
  };
  touch();
  const send = (m: TunnelMessage) => {
    if (m.type === 'DATA') touch();
    if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(m));
  };
  const ids = (cid: number) => ({ streamId: stream!, serviceId: o.serviceId, ...(v2 ? {} : { connectionId: cid }) });

  function dropAll(): void {
    for (const s of conns.values()) s.destroy();
    conns.clear();
  }

  function open(cid: number): void {
    if (conns.has(cid)) {
      send({ type: 'CONNECTION_RESET', ...ids(cid) });
      return;
    }
    const socket = connect({ host: '127.0.0.1', port: o.port });
    const streamAtOpen = stream;
    conns.set(cid, socket);
    socket.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i += MAX_TUNNEL_PAYLOAD) send({ type: 'DATA', ...ids(cid), payload: chunk.subarray(i, i + MAX_TUNNEL_PAYLOAD) });
    });
    socket.on('error', (e) => log('warn', `tunnel connection to 127.0.0.1:${o.port} failed: ${e.message}`));
    socket.on('close', () => {
      if (conns.get(cid) !== socket) return; // closed by the peer's reset: nothing to tell it
      conns.delete(cid);
      if (stream !== streamAtOpen) return;
      send(v2 ? { type: 'STREAM_RESET', streamId: stream!, serviceId: o.serviceId } : { type: 'CONNECTION_RESET', ...ids(cid) });
    });
  }

  function handle(m: TunnelMessage): void {
    const cid = m.connectionId ?? 1;
    switch (m.type) {
      case 'SERVICE_IDS':
        if (!m.availableServiceIds?.includes(o.serviceId)) {
          log('warn', `the tunnel offers services ${JSON.stringify(m.availableServiceIds ?? [])}, not ${o.serviceId}: closing`);
          ws.close(1000, 'service mismatch');
        }
        return;
      case 'STREAM_START':
        if (m.serviceId && m.serviceId !== o.serviceId) return;
        dropAll();
        stream = m.streamId;
        v2 = m.connectionId === undefined;
        open(cid);
        return;
      case 'CONNECTION_START':
        if (m.streamId === stream && !v2) open(cid);
        return;
      case 'DATA':
        touch();
        if (m.streamId === stream && m.payload) conns.get(v2 ? 1 : cid)?.write(m.payload);
        return;
      case 'CONNECTION_RESET': {
        if (m.streamId !== stream) return;
        const s = conns.get(cid);
        conns.delete(cid);
        s?.end();
        return;
      }
      case 'STREAM_RESET':
        if (m.streamId !== stream) return;
        stream = undefined;
        dropAll();
        return;
      case 'SESSION_RESET':
        stream = undefined;
        dropAll();
        return;
      default:
        if (!m.ignorable) log('warn', `unexpected tunnel message ${m.type}`);
    }
  }

  const ended = new Promise<string>((resolve) => {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) { ws.close(1003, 'text frame'); return; }
      try {
        for (const m of reader.push(messageBytes(data))) handle(m);
      } catch (e) {
        log('warn', `malformed tunnel frame, closing: ${(e as Error).message}`);
        ws.close(1002, 'malformed frame');
      }
    });
    ws.on('unexpected-response', (_req, res) => { resolve(`the tunnel service refused the connection (HTTP ${res.statusCode})`); ws.terminate(); });
    ws.on('error', (e) => resolve(`tunnel connection failed: ${e.message}`));
    ws.on('close', (code, reason) => {
      if (idleTimer) clearTimeout(idleTimer);
      stream = undefined;
      dropAll();
      resolve(idled ? 'idle timeout' : `tunnel closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
    });
  });

  return { ended, close: () => ws.close(1000, 'closed by the agent') };
}
