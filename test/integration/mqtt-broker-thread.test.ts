/**
 * The IoT Core stand-in's broker runs on its own thread (local/mqtt-broker-thread.ts): it accepts
 * connections and completes TLS handshakes while the main thread — where every function runs —
 * is busy. Before, a storm of hosts waited in the accept queue behind the functions' work (Node's
 * libuv accepts one connection per loop iteration) until aws-crt's 10 s TLS negotiation timeout.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { createCsr, generateDeviceKey } from '../../device/identity.js';
import { loadOrCreateCa, type LocalCa } from '../../local/local-ca.js';
import { serveBroker } from '../../local/mqtt-broker-core.js';
import { startBroker, type LocalBroker } from '../../local/mqtt-broker.js';

let dir: string;
let ca: LocalCa;
let broker: LocalBroker | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-broker-thread-it-'));
  ca = await loadOrCreateCa(path.join(dir, 'ca'));
});
afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A device in another process: says "loaded", waits `delayMs`, completes a TLS handshake with the broker, prints when, and exits. */
const DEVICE = `
const tls = require('node:tls');
const fs = require('node:fs');
const [port, key, cert, ca, delayMs] = process.argv.slice(1);
console.log('loaded');
setTimeout(() => {
  const s = tls.connect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', key: fs.readFileSync(key), cert: fs.readFileSync(cert), ca: fs.readFileSync(ca), ALPNProtocols: ['mqtt'] });
  s.on('secureConnect', () => { console.log('handshake ' + Date.now()); s.destroy(); });
  s.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });
}, Number(delayMs));
`;

it('completes a device\'s TLS handshake while the main thread is blocked', async () => {
  broker = await startBroker({ ca, port: 0 });
  const keyPem = generateDeviceKey();
  const { certificatePem } = await ca.signCsr(await createCsr(keyPem, 'uid-bt1'), 'thing-bt1');
  const files = { key: path.join(dir, 'key.pem'), cert: path.join(dir, 'cert.pem'), ca: path.join(dir, 'ca.pem') };
  writeFileSync(files.key, keyPem);
  writeFileSync(files.cert, certificatePem);
  writeFileSync(files.ca, ca.caPem);
  const child = spawn(process.execPath, ['-e', DEVICE, String(broker.port), files.key, files.cert, files.ca, '300'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await new Promise<void>((r) => child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('loaded')) r(); }));
  // Block this thread for 3 s (no timer, no I/O runs here meanwhile).
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
  const unblockedAt = Date.now();
  expect(await exited).toBe(0);
  const at = Number(/handshake (\d+)/.exec(out)?.[1]);
  expect(out).toMatch(/handshake \d+/);
  expect(at).toBeLessThan(unblockedAt);
  await broker.stop();
  broker = undefined;
}, 30_000);

it('a port in use is refused with the port named', async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const port = (taken.address() as AddressInfo).port;
  try {
    await expect(startBroker({ ca, port })).rejects.toThrow(`MQTT port ${port} is already in use`);
  } finally {
    await new Promise<void>((r) => taken.close(() => r()));
  }
});

describe('a stopping broker', () => {
  const core = async () => {
    const { keyPem, certPem } = await ca.serverCertificate(['localhost', '127.0.0.1']);
    return serveBroker({
      keyPem, certPem, caPem: ca.caPem, port: 0, host: '127.0.0.1', maxPayloadBytes: 1024,
      admit: async () => ({ revoked: false, attached: true }), onMessage: () => undefined, onStats: () => undefined,
    });
  };

  it('refuses a connection made once stop began (before, one was accepted and never answered: the device waited for its CONNACK)', async () => {
    const b = await core();
    const stopping = b.stop();
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: b.port });
      s.once('connect', () => { s.destroy(); resolve('accepted'); });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    await stopping;
    expect(refused).toBe('ECONNREFUSED');
  });

  it('closes a connection that finished its TLS handshake but sent no CONNECT, and stops (before, stop waited for it)', async () => {
    const b = await core();
    const keyPem = generateDeviceKey();
    const { certificatePem } = await ca.signCsr(await createCsr(keyPem, 'uid-bt2'), 'thing-bt2');
    const device = tlsConnect({ host: '127.0.0.1', port: b.port, servername: 'localhost', key: keyPem, cert: certificatePem, ca: ca.caPem, ALPNProtocols: ['mqtt'] });
    device.on('error', () => undefined);
    await new Promise<void>((r) => device.once('secureConnect', () => r()));
    const closed = new Promise<void>((r) => device.once('close', () => r()));
    await b.stop();
    await closed;
    expect(device.destroyed).toBe(true);
  }, 10_000); // before, stop waited for aedes's 30 s connect timeout
});
