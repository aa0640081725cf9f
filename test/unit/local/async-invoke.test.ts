import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { AsyncInvoker, LAMBDA_ASYNC_DEFAULTS, type AsyncFunction } from '../../../local/async-invoke.js';
import { FunctionTimeouts } from '../../../local/function-timeouts.js';

/*
 * Lambda's asynchronous invocation on one machine (local/async-invoke.ts), against what Lambda
 * documents: a failed invocation (an error or a timeout) runs again with the same event after
 * one minute, then after two more; no more than the function's MaximumRetryAttempts; not once
 * the event would be older than MaximumEventAgeInSeconds; and nothing after the runtime stopped.
 */
type Log = { level: string; message: string; detail: Record<string, unknown> };

describe('AsyncInvoker', () => {
  let clock = 0;
  let logs: Log[];
  let invoker: AsyncInvoker;
  beforeEach(() => {
    jest.useFakeTimers();
    clock = 0;
    logs = [];
    invoker = new AsyncInvoker({ now: () => clock, log: (level, message, detail) => logs.push({ level, message, detail }) });
  });
  afterEach(() => { invoker.stop(); jest.useRealTimers(); });

  /** An attempt that fails `failures` times, then succeeds; records when (on the fake clock) each ran. */
  const flaky = (failures: number) => {
    const at: number[] = [];
    const attempt = async () => {
      at.push(clock);
      if (at.length <= failures) throw new Error(`Task timed out after 10.00 seconds (attempt ${at.length})`);
      return 'done';
    };
    return { at, attempt };
  };
  /** Moves the fake clock and its timers on by `ms`, letting the attempts' promises settle. */
  const advance = async (ms: number) => {
    clock += ms;
    await jest.advanceTimersByTimeAsync(ms);
  };
  const fn = (retries: number, maxAgeS = 3600): AsyncFunction => ({ name: 'edgefleet-iot-results', asyncRetry: { retries, maxAgeMs: maxAgeS * 1000 } });

  it.each([
    // failures, retries allowed → attempts' start times (s), retries run, dropped
    [0, 2, [0], 0, 0],
    [1, 2, [0, 60], 1, 0],
    [2, 2, [0, 60, 180], 2, 0],
    [3, 2, [0, 60, 180], 2, 1],
    [1, 0, [0], 0, 1],
    [5, 1, [0, 60], 1, 1],
  ])('%i failure(s) with %i retries allowed: attempts at %j s, %i retried, %i dropped', async (failures, retries, times, retried, dropped) => {
    const { at, attempt } = flaky(failures);
    const first = invoker.invoke(fn(retries), attempt);
    if (failures > 0) await expect(first).rejects.toThrow(/attempt 1/);
    else await expect(first).resolves.toBe('done');
    for (let i = 0; i < 10; i++) await advance(30_000);
    expect(at.map((ms) => ms / 1000)).toEqual(times);
    expect(invoker.stats).toEqual({ retries: retried, dropped });
    expect(invoker.pending).toBe(0);
    if (dropped) expect(logs.at(-1)).toMatchObject({ level: 'error', detail: { function: 'edgefleet-iot-results', action: expect.stringMatching(/not delivered again/) } });
  });

  it('drops an event that would be older than its maximum event age at the next attempt', async () => {
    const { at, attempt } = flaky(5);
    await expect(invoker.invoke(fn(2, 90), attempt)).rejects.toThrow();
    for (let i = 0; i < 10; i++) await advance(30_000);
    // 60 s is within 90 s; the third attempt would come at 180 s.
    expect(at).toEqual([0, 60_000]);
    expect(invoker.stats).toEqual({ retries: 1, dropped: 1 });
    expect(logs.at(-1)?.message).toMatch(/older than its maximum event age \(90 s\)/);
  });

  it('runs nothing after stop(): a scheduled retry is cleared, and a failure after it schedules none', async () => {
    const { at, attempt } = flaky(5);
    await expect(invoker.invoke(fn(2), attempt)).rejects.toThrow();
    expect(invoker.pending).toBe(1);
    invoker.stop();
    expect(invoker.pending).toBe(0);
    await advance(600_000);
    expect(at).toEqual([0]);
    await expect(invoker.invoke(fn(2), attempt)).rejects.toThrow();
    expect(invoker.pending).toBe(0);
  });

  it('shortens the waits by delayScale (tests), the same number of attempts', async () => {
    const scaled = new AsyncInvoker({ now: () => clock, delayScale: 0.01 });
    const { at, attempt } = flaky(2);
    await expect(scaled.invoke(fn(2), attempt)).rejects.toThrow();
    await advance(600);
    await advance(1_200);
    expect(at).toEqual([0, 600, 1_800]);
    scaled.stop();
  });

  it('uses Lambda\'s defaults for a function without an EventInvokeConfig: 2 retries, 6 hours', () => {
    expect(LAMBDA_ASYNC_DEFAULTS).toEqual({ retries: 2, maxAgeMs: 21_600_000 });
  });
});

describe('FunctionTimeouts: each function\'s EventInvokeConfig', () => {
  const fnRes = (service: string) => ({ Type: 'AWS::Lambda::Function', Properties: { Timeout: 10, Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } } } });
  const template = {
    Resources: {
      Results: fnRes('edgefleet-iot-results'),
      Sweeper: fnRes('edgefleet-command-sweeper'),
      Api: fnRes('edgefleet-api-hosts'),
      ResultsConfig: { Type: 'AWS::Lambda::EventInvokeConfig', Properties: { FunctionName: { Ref: 'Results' }, MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2, Qualifier: '$LATEST' } },
      SweeperConfig: { Type: 'AWS::Lambda::EventInvokeConfig', Properties: { FunctionName: { Ref: 'Sweeper' }, MaximumRetryAttempts: 0, Qualifier: '$LATEST' } },
    },
  };

  it.each([
    ['edgefleet-iot-results', { retries: 2, maxAgeMs: 3_600_000 }],
    ['edgefleet-command-sweeper', { retries: 0, maxAgeMs: 21_600_000 }],
    ['edgefleet-api-hosts', LAMBDA_ASYNC_DEFAULTS],
  ])('%s retries as %j', (name, policy) => {
    expect(new FunctionTimeouts(template).named(name).asyncRetry).toEqual(policy);
  });
});
