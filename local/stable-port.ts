import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Linux's default `ip_local_port_range` low end, also below the IANA range other systems use. */
const DEFAULT_EPHEMERAL_LOW = 32768;
/** The lowest port chosen: above the registered services most machines run. */
const LOWEST = 10000;

/**
 * The lowest port the kernel hands to outgoing connections (their local port), from
 * `/proc/sys/net/ipv4/ip_local_port_range`; 32768 where that cannot be read.
 */
export function ephemeralLow(read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')): number {
  let low: number;
  try { low = Number(read().trim().split(/\s+/)[0]); } catch { return DEFAULT_EPHEMERAL_LOW; }
  return Number.isInteger(low) && low > LOWEST && low <= 65535 ? low : DEFAULT_EPHEMERAL_LOW;
}

/** Whether `port` can be listened on at `host` now. */
export function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

export interface StablePortOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** The range to choose from, `[from, to)`. @default [10000, the ephemeral range's low end) */
  readonly from?: number;
  readonly to?: number;
  /** @default Math.random */
  readonly random?: () => number;
  /** Candidates tried before giving up. @default 50 */
  readonly attempts?: number;
}

/**
 * A free port for a listener that must come back on the same port after a restart (the local
 * MQTT broker's, which registered hosts keep). It is chosen below the kernel's ephemeral range:
 * a port the kernel picks for `listen(0)` is also one it gives outgoing connections, so while the
 * runtime is stopped any connection on the machine could take it as its local port, and the
 * restart would then fail with EADDRINUSE. Below that range only an explicit listener can.
 */
export async function stablePort(o: StablePortOptions = {}): Promise<number> {
  const host = o.host ?? '127.0.0.1';
  const from = o.from ?? LOWEST;
  const to = o.to ?? ephemeralLow();
  const random = o.random ?? Math.random;
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 1 && to <= 65536 && from < to)) throw new Error(`no port range to choose from: [${from}, ${to})`);
  for (let i = 0; i < (o.attempts ?? 50); i++) {
    const port = from + Math.floor(random() * (to - from));
    if (await canListen(port, host)) return port;
  }
  throw new Error(`no free port found in [${from}, ${to}) on ${host} after ${o.attempts ?? 50} tries; pass an explicit port`);
}
