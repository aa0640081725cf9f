import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatedFleet } from './simulated-fleet.js';

/** `POST /_local/simulator/hosts/{id}/stop|start`: local only (never part of the AWS stack or the agent). */
export const SIMULATOR_CONTROL_PREFIX = '/_local/simulator/hosts/';

const answer = (res: ServerResponse, status: number, body: Record<string, unknown>, problem = false) => {
  res.writeHead(status, { 'content-type': problem ? 'application/problem+json' : 'application/json' }).end(JSON.stringify(body));
};

/**
 * Stops or starts one simulated host of `npm start -- --simulate N` on the runtime's loopback
 * port: `stop` ends its agent (the broker sees the disconnect, as when a shop's box loses its
 * network), `start` runs a new agent on the same simulated disk (no new registration). Only the
 * local admin token may; the runtime listens on 127.0.0.1 only. Returns whether it took the request.
 */
export function simulatorControl(fleet: SimulatedFleet, adminToken: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  const expected = Buffer.from(`Bearer ${adminToken}`);
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (!url.pathname.startsWith(SIMULATOR_CONTROL_PREFIX)) return false;
    const given = Buffer.from(String(req.headers.authorization ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      answer(res, 401, { title: 'Unauthorized', status: 401, detail: 'send the local admin token (adminToken in <data dir>/local.json) as "authorization: Bearer <token>"' }, true);
      return true;
    }
    const m = /^([A-Za-z0-9._-]{1,64})\/(stop|start)$/.exec(url.pathname.slice(SIMULATOR_CONTROL_PREFIX.length));
    if (req.method !== 'POST' || !m) {
      answer(res, 404, { title: 'Not Found', status: 404, detail: `use POST ${SIMULATOR_CONTROL_PREFIX}<host id>/stop or /start` }, true);
      return true;
    }
    const [, id, action] = m as unknown as [string, string, 'stop' | 'start'];
    const host = fleet.host(id);
    if (!host) {
      answer(res, 404, { title: 'Not Found', status: 404, detail: `no simulated host ${id} in this runtime (they are ${fleet.hosts.map((h) => h.uid).slice(0, 10).join(', ')}${fleet.hosts.length > 10 ? ', …' : ''})` }, true);
      return true;
    }
    const done = () => answer(res, 200, { hostId: id, running: host.running });
    if (action === 'start') {
      if (!host.running) host.start();
      done();
    } else if (host.running) {
      host.stop().then(done, (e: unknown) => answer(res, 500, { title: 'Internal Server Error', status: 500, detail: `stopping ${id} failed: ${String(e)}` }, true));
    } else {
      done();
    }
    return true;
  };
}
