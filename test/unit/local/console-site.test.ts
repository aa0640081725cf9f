import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { consoleSecurityHeaders } from '../../../lib/console-headers.js';
import { CONSOLE_CONFIG_PATH, consoleSite } from '../../../local/console-site.js';

describe('local console site: config.json and the shared security headers', () => {
  const dist = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-console-dist-'));
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>t</title>');
  const site = consoleSite(async () => 'token', dist);
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => { if (!site.handle(req, res)) { res.writeHead(404); res.end(); } });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dist, { recursive: true, force: true });
  });

  it('answers /config.json with {}: the API is this origin (on AWS the deployment writes its URL there)', async () => {
    const r = await fetch(`${base}${CONSOLE_CONFIG_PATH}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(await r.json()).toEqual({});
  });

  it('sends lib/console-headers.ts\' headers with connect-src \'self\' only', async () => {
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    for (const [name, value] of Object.entries(consoleSecurityHeaders())) expect([name, r.headers.get(name)]).toEqual([name, value]);
    expect(r.headers.get('content-security-policy')).toMatch(/connect-src 'self';/);
  });
});
