/**
 * Jest global setup and teardown: every DynamoDB Local a test run starts carries the run's tag
 * (`-Dedgefleet.tag=<tag>`, local/dynamodb-local.ts reads EDGEFLEET_JAVA_TAG), and the teardown
 * kills any still alive. A test file that times out in its setup leaves its worker hung; jest then
 * kills the worker with SIGKILL, which runs no exit handler, and the detached Java would outlive
 * the run. Linux only (/proc); elsewhere the teardown does nothing.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

export function setup() {
  process.env.EDGEFLEET_JAVA_TAG = `jest-${randomUUID()}`;
}

/** Pids whose command line carries `marker` (one argument of it, NUL-separated in /proc). */
export function pidsWith(marker) {
  const out = [];
  let entries = [];
  try { entries = readdirSync('/proc'); } catch { return out; }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').includes(marker)) out.push(Number(e));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

export function teardown() {
  const tag = process.env.EDGEFLEET_JAVA_TAG;
  if (!tag) return;
  for (const pid of pidsWith(`-Dedgefleet.tag=${tag}`)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}
