import { AGENT_VERSION } from '../version.js';
import { CommandFailed, type CommandRunner } from '../command-runner.js';
import { describeItem, diagnosticItems, type DiagnosticItem, type HostFacts } from './plan.js';
import { redact } from './redact.js';
import { tarGz, type Packed, type TarEntry } from './tar.js';

/** What the host offers the collection: the allow-listed runner, file reads, TCP connects, its facts. */
export interface DiagnosticsSource {
  /** Runs only allow-listed programs (argv, never a shell). */
  readonly runner: CommandRunner;
  readFile(path: string): Promise<string>;
  /** Resolves when a TCP connection to host:port opens within the timeout (then closes it). */
  connect(host: string, port: number, timeoutMs: number): Promise<void>;
  facts(): Promise<HostFacts>;
}

export interface ManifestEntry {
  readonly file: string;
  readonly command: string;
  readonly exitCode: number | null;
  readonly durationMs: number;
  readonly bytes: number;
  readonly redactions: number;
  readonly error?: string;
  readonly truncated?: boolean;
}

export interface Manifest {
  readonly hostId: string;
  readonly commandId: string;
  readonly collectedAt: string;
  readonly since: string;
  readonly agentVersion: string;
  readonly items: ManifestEntry[];
}

export interface Bundle extends Packed {
  readonly manifest: Manifest;
}

/** One item's output cannot exceed this before compression (the runner's buffer is 4 MiB). */
const MAX_ITEM_BYTES = 8 * 1024 * 1024;

interface Collected {
  readonly entry: ManifestEntry;
  text: string;
}

async function runItem(src: DiagnosticsSource, item: DiagnosticItem, now: () => number): Promise<Collected> {
  const started = now();
  let text = '';
  let exitCode: number | null = 0;
  let error: string | undefined;
  try {
    if (item.kind === 'run') {
      const out = await src.runner.run(item.program, item.args, { timeoutMs: item.timeoutMs });
      text = out.stdout + (out.stderr.trim() ? `\n--- stderr ---\n${out.stderr}` : '');
    } else if (item.kind === 'read') {
      text = await src.readFile(item.path);
    } else {
      await src.connect(item.host, item.port, 5_000);
      text = `connected to ${item.host}:${item.port}\n`;
    }
  } catch (e) {
    if (e instanceof CommandFailed) {
      exitCode = typeof e.exitCode === 'number' ? e.exitCode : null;
      text = e.stderr;
    } else {
      exitCode = item.kind === 'run' ? null : 1;
    }
    error = (e as Error).message.slice(0, 1000);
    if (item.kind === 'tcp') text = `cannot connect to ${item.host}:${item.port}: ${error}\n`;
  }
  const r = redact(text);
  const errorRedacted = error === undefined ? undefined : redact(error).text;
  const truncated = Buffer.byteLength(r.text) > MAX_ITEM_BYTES;
  const body = truncated ? Buffer.from(r.text).subarray(0, MAX_ITEM_BYTES).toString('utf8') : r.text;
  return {
    text: body,
    entry: {
      file: item.file, command: describeItem(item), exitCode, durationMs: Math.max(0, Math.round(now() - started)), bytes: Buffer.byteLength(body),
      redactions: r.count + (error !== undefined && errorRedacted !== error ? 1 : 0), ...(errorRedacted !== undefined ? { error: errorRedacted } : {}),
      ...(truncated ? { truncated: true } : {}),
    },
  };
}

function pack(collected: readonly Collected[], manifest: Omit<Manifest, 'items'>, mtime: number): Bundle {
  const full: Manifest = { ...manifest, items: collected.map((c) => c.entry) };
  const entries: TarEntry[] = [
    { name: 'manifest.json', content: Buffer.from(`${JSON.stringify(full, null, 2)}\n`), mtime },
    ...collected.map((c) => ({ name: c.entry.file, content: Buffer.from(c.text), mtime })),
  ];
  return { ...tarGz(entries), manifest: full };
}

/**
 * Collects every planned item (a failing item is recorded with its exit code and error, never
 * fatal), redacts each before it is packed, writes manifest.json first, and packs a tar.gz no
 * larger than `maxBytes`: while it is larger, the largest item is cut in half (marked truncated).
 */
export async function collectBundle(src: DiagnosticsSource, o: { hostId: string; commandId: string; since: Date; maxBytes: number; now?: () => number }): Promise<Bundle> {
  const now = o.now ?? Date.now;
  const facts = await src.facts().catch((): HostFacts => ({}));
  const items = diagnosticItems(facts, Math.floor(o.since.getTime() / 1000));
  const collected: Collected[] = [];
  for (const item of items) collected.push(await runItem(src, item, now));
  const head = { hostId: o.hostId, commandId: o.commandId, collectedAt: new Date(now()).toISOString(), since: o.since.toISOString(), agentVersion: AGENT_VERSION };
  const mtime = Math.floor(now() / 1000);
  let bundle = pack(collected, head, mtime);
  for (let round = 0; bundle.tgz.length > o.maxBytes && round < 64; round++) {
    const largest = collected.reduce((a, b) => (b.text.length > a.text.length ? b : a));
    if (largest.text.length === 0) break;
    largest.text = largest.text.slice(0, Math.floor(largest.text.length / 2));
    Object.assign(largest, { entry: { ...largest.entry, bytes: Buffer.byteLength(largest.text), truncated: true } });
    bundle = pack(collected, head, mtime);
  }
  if (bundle.tgz.length > o.maxBytes) throw new Error(`the bundle is ${bundle.tgz.length} bytes even with every item cut, above the ${o.maxBytes} bytes allowed`);
  return bundle;
}
