/** The jest teardown kills what carries the run's tag (a DynamoDB Local left by a SIGKILLed worker), and nothing else. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { pidsWith, teardown } from '../java-reaper.js';

const linux = process.platform === 'linux';
const idle = (tag: string): ChildProcess =>
  spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', '--', `-Dedgefleet.tag=${tag}`], { detached: true, stdio: 'ignore' });
const exited = (c: ChildProcess) => new Promise<void>((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });

(linux ? it : it.skip)('teardown kills every process with this run\'s tag and leaves another run\'s alone', async () => {
  const tag = `jest-test-${randomUUID()}`;
  const mine = idle(tag);
  const other = idle(`${tag}-other`);
  try {
    for (let i = 0; i < 100 && !pidsWith(`-Dedgefleet.tag=${tag}`).includes(mine.pid!); i++) await new Promise((r) => setTimeout(r, 20));
    expect(pidsWith(`-Dedgefleet.tag=${tag}`)).toEqual([mine.pid]);
    const saved = process.env.EDGEFLEET_JAVA_TAG;
    process.env.EDGEFLEET_JAVA_TAG = tag;
    try { teardown(); } finally { process.env.EDGEFLEET_JAVA_TAG = saved; }
    await exited(mine);
    expect(mine.signalCode).toBe('SIGKILL');
    expect(other.exitCode).toBeNull();
    expect(other.signalCode).toBeNull();
  } finally {
    mine.kill('SIGKILL');
    other.kill('SIGKILL');
    await Promise.all([exited(mine), exited(other)]);
  }
});
