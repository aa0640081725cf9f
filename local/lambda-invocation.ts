/**
 * Lambda's timeout on one machine. Every local call of a handler (API route, IoT rule, workflow
 * task, event target) is one invocation: its context counts `getRemainingTimeInMillis` down from
 * the function's own timeout (read from the synthesized template, local/function-timeouts.ts),
 * and at that timeout the caller gets what Lambda reports (`FunctionTimedOutError`) while the
 * invocation is frozen, as Lambda stops it: every side effect it tries afterwards — a DynamoDB
 * call through the SDK client, an IoT publish, the local CA, a workflow start, an event — fails
 * with `InvocationFrozenError` instead of happening. In-process that is an AsyncLocalStorage
 * scope the local adapters and an SDK middleware check (`assertLive`), added only by the local
 * runtime; the Lambda code is unchanged.
 *
 * On AWS every concurrent invocation runs in its own execution environment, with its own CPU; here
 * they all share one process and one DynamoDB Local. So that a storm measures the control plane
 * and not this machine's scheduler, each function runs at most `InvocationSlots.limit`
 * invocations at a time and the others wait before they start (in order, then newest first under a
 * standing overload: local/wait-queue.ts) — and their timeout,
 * like Lambda's, counts from the start of the invocation, not from the wait. (Unbounded, a storm
 * of 1,000 registrations on 2 cores started 1,000 invocations that all ran past their 10 s, so
 * Lambda's timeout threw their work away and the agents retried it.) The wait is latency the
 * caller sees here and would not see on AWS below the account's concurrency (1,000 by default).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { syntheticContext } from '../lambdas/handlers/kit.js';
import type { DocClient } from '../lambdas/adapters/dynamodb/client.js';
import type { AsyncRetryPolicy } from './async-invoke.js';
import { BoundedSlots, LIFO_AFTER_MS } from './wait-queue.js';

export interface LocalFunction {
  /** The function's Powertools service name (`edgefleet-api-hosts`), as in the template. */
  readonly name: string;
  readonly timeoutMs: number;
  /** This machine's bound on its concurrent invocations (none: unbounded). */
  readonly slots?: InvocationSlots;
  /** Lambda's retries of a failed asynchronous invocation (its EventInvokeConfig; local/async-invoke.ts). */
  readonly asyncRetry?: AsyncRetryPolicy;
  /** Behind an HTTP API: how long the API waits for its answer (the integration's timeout), in ms. */
  readonly integrationTimeoutMs?: number;
}

/**
 * At most `limit` invocations of one function at a time on this machine; the others wait, in
 * order until the oldest has waited `lifoAfterMs`, then newest first (local/wait-queue.ts). A
 * waiter whose caller is gone is dropped without a slot.
 */
export class InvocationSlots extends BoundedSlots {
  constructor(limit: number, lifoAfterMs: number = LIFO_AFTER_MS) {
    super('the local concurrency of a function', limit, lifoAfterMs);
  }
}

interface Invocation {
  readonly fn: LocalFunction;
  readonly requestId: string;
  /** Set when the timeout passed: nothing of this invocation may happen any more. */
  timedOut: boolean;
}

const current = new AsyncLocalStorage<Invocation>();

/** What Lambda reports for an invocation that ran past its timeout ("Task timed out after 29.00 seconds"). */
export class FunctionTimedOutError extends Error {
  constructor(readonly functionName: string, readonly timeoutMs: number, readonly requestId: string) {
    super(`RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds (function ${functionName})`);
    this.name = 'FunctionTimedOutError';
  }
}

/**
 * Nobody waits for an invocation any more (its caller went away, or the HTTP API answered 503 at
 * its integration timeout) while it waited for a slot on this machine: nothing runs. The wait
 * exists only here (on AWS the invocation would have started at once), so the work of a request
 * nobody waits for any more is not done.
 */
export class CallerGoneError extends Error {
  constructor(readonly functionName: string, readonly requestId: string) {
    super(`invocation ${requestId} of ${functionName} did not run: nobody waited for its answer any more (its caller closed the connection, or the API's integration timeout passed) while it waited for a local concurrency slot`);
    this.name = 'CallerGoneError';
  }
}

/** A side effect tried by an invocation after its timeout: refused, as Lambda has stopped that invocation. */
export class InvocationFrozenError extends Error {
  constructor(what: string, inv: Invocation) {
    super(`${what} refused: invocation ${inv.requestId} of ${inv.fn.name} timed out after ${inv.fn.timeoutMs / 1000} s, `
      + 'and Lambda stops a timed-out invocation, so nothing it does afterwards happens (the caller already got the timeout)');
    this.name = 'InvocationFrozenError';
  }
}

/** Throws InvocationFrozenError when called from an invocation past its timeout; anything else passes. */
export function assertLive(what: string): void {
  const inv = current.getStore();
  if (inv?.timedOut) throw new InvocationFrozenError(what, inv);
}

/**
 * Runs `handler` as one invocation of `fn`: it gets a context whose remaining time counts down
 * from the function's timeout; the result is the handler's, or FunctionTimedOutError once the
 * timeout passed first (the handler's later outcome is dropped, and its side effects refused),
 * or CallerGoneError when `callerGone` says so after it waited for a slot.
 */
export async function invokeLocal<R>(
  fn: LocalFunction, handler: (context: Context) => Promise<R>, requestId: string = randomUUID(),
  /** True once nobody waits for the result (an HTTP caller closed its connection): checked after a slot wait. */
  callerGone?: () => boolean,
): Promise<R> {
  // Waiting for a slot is not part of the invocation: its clock starts when it runs.
  if (fn.slots) {
    if (!await fn.slots.acquire(callerGone)) throw new CallerGoneError(fn.name, requestId);
    if (callerGone?.()) {
      fn.slots.release();
      throw new CallerGoneError(fn.name, requestId);
    }
  }
  let released = false;
  const release = () => { if (!released) { released = true; fn.slots?.release(); } };
  const inv: Invocation = { fn, requestId, timedOut: false };
  const context = syntheticContext(fn.name, requestId, fn.timeoutMs);
  // The deadline holds even when the handler answered first (middy's timeoutEarly answers 5 ms
  // before it): from then on nothing of this invocation happens. (Lambda freezes an invocation
  // as soon as it returns; work it left running is refused here from its deadline on.)
  let expire!: (e: Error) => void;
  const timeout = new Promise<never>((_resolve, reject) => { expire = reject; });
  timeout.catch(() => undefined);
  setTimeout(() => {
    inv.timedOut = true;
    release(); // a timed-out invocation is stopped: its slot is free
    expire(new FunctionTimedOutError(fn.name, fn.timeoutMs, requestId));
  }, fn.timeoutMs).unref();
  const run = current.run(inv, async () => handler(context));
  run.then(release, release); // after a timeout nobody waits for it
  return Promise.race([run, timeout]);
}

/** A port whose every method first checks that the calling invocation is still alive (`service` names it in the refusal). */
export function refuseAfterTimeout<T extends object>(port: T, service: string): T {
  return new Proxy(port, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        assertLive(`${service}.${String(prop)}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** An AWS SDK client (the DynamoDB Local one) that refuses every request attempt of a timed-out invocation. */
export function refuseSdkCallsAfterTimeout(client: DocClient, service: string): void {
  client.middlewareStack.add((next, context) => async (args) => {
    assertLive(`${service} ${String(context.commandName ?? 'call')}`);
    return next(args);
  }, { step: 'finalizeRequest', priority: 'low', name: 'edgefleetLocalLambdaTimeout' });
}
