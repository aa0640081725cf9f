/**
 * The broker's thread: serveBroker (mqtt-broker-core.ts) on its own event loop. Node's libuv
 * (1.45+) accepts one connection per listening socket per loop iteration; on the main thread,
 * whose iterations carry every function's work, a storm of hosts waited in the accept queue past
 * their TLS negotiation timeout (aws-crt: 10 s). Here the loop only serves MQTT. Started by
 * startBroker (mqtt-broker.ts), which answers its questions (revocation, IsAttached) and receives
 * every message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serveBroker, type BrokerCore } from './mqtt-broker-core.js';
import type { BrokerThreadStart, FromBroker, ToBroker } from './mqtt-broker-messages.js';

const main = parentPort!;
const start = workerData as BrokerThreadStart;
const send = (m: FromBroker) => main.postMessage(m);

let core: BrokerCore | undefined;
let statsQueued = false;
const admits = new Map<number, (answer: { revoked: boolean; attached: boolean }) => void>();
let nextAdmit = 0;

main.on('message', (m: ToBroker) => {
  switch (m.type) {
    case 'admitted':
      admits.get(m.id)?.({ revoked: m.revoked, attached: m.attached });
      admits.delete(m.id);
      return;
    case 'publish':
      core!.publish(m.topic, typeof m.payload === 'string' ? m.payload : Buffer.from(m.payload), m.qos).then(
        () => send({ type: 'published', id: m.id }),
        (e: Error) => send({ type: 'published', id: m.id, error: e.message }),
      );
      return;
    case 'close-sessions':
      core!.closeSessions(m.match);
      return;
    case 'stop':
      void core!.stop().then(() => send({ type: 'stopped', stats: core!.stats }));
      return;
  }
});

try {
  core = await serveBroker({
    ...start,
    admit: (thing, certificateId) => new Promise((resolve) => {
      const id = nextAdmit++;
      admits.set(id, resolve);
      send({ type: 'admit', id, thing, certificateId });
    }),
    onMessage: (topic, payload, clientId) => send({ type: 'message', topic, payload, ...(clientId === undefined ? {} : { clientId }), stats: core!.stats }),
    // Counters without a message (a refused handshake, a denied subscribe): once per loop turn.
    onStats: () => {
      if (statsQueued || !core) return;
      statsQueued = true;
      setImmediate(() => { statsQueued = false; send({ type: 'stats', stats: core!.stats }); });
    },
  });
  send({ type: 'ready', port: core.port, stats: core.stats });
} catch (e) {
  send({ type: 'failed', message: (e as Error).message });
}
