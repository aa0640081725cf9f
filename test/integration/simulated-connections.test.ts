import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { startSimulatedAgents } from '../../simulator/index.js';

/*
 * A simulated host is never kinder than a real one: each has its own HTTP connections, as each
 * real host has its own network stack, instead of thousands of hosts riding on one process-wide
 * pool of kept-open connections. Against a server that answers every registration 503 (so the
 * agents retry), no connection ever carries two hosts' requests, nor two requests: a host whose
 * process runs its callbacks late never writes into a connection the server has already closed.
 */
describe('simulated hosts\' HTTP connections', () => {
  it('are each host\'s own: no connection carries the requests of two hosts', async () => {
    const hostsOf = new Map<string, Set<string>>();
    let requests = 0;
    let connection = 0;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { uid } = JSON.parse(Buffer.concat(chunks).toString()) as { uid: string };
        const socket = req.socket as typeof req.socket & { id?: string };
        socket.id ??= String(++connection);
        hostsOf.set(socket.id, (hostsOf.get(socket.id) ?? new Set()).add(uid));
        requests++;
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"Service Unavailable"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-sim-conn-'));
    const fleet = startSimulatedAgents({
      apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, registrationToken: 'ef_token', project: 'default',
      count: 6, stateDir: dir, agentSigningKeyPem: 'unused: no update in this test',
    });
    try {
      // Six hosts, each retrying with a backoff of [0, 1 s), [0, 2 s), …: a shared pool would hand
      // one host's idle connection to the next host that asks, and a kept-open one would carry the retry.
      for (const deadline = Date.now() + 20_000; requests < 24 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 100));
      expect(requests).toBeGreaterThanOrEqual(24);
      const shared = [...hostsOf.values()].filter((uids) => uids.size > 1).map((uids) => [...uids]);
      expect(shared).toEqual([]);
      // and no host writes a request into a connection kept open from its last one (a late
      // callback would write into a connection the API already closed): one request each.
      expect(hostsOf.size).toBe(requests);
    } finally {
      await fleet.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
