import { areaOf, summarize, type CpuProfile } from '../../../bench/cpu-profile.js';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0 }, children });

describe('cpu profile summary', () => {
  it.each<[string, string, string, string | undefined]>([
    ['the idle pseudo-frame', '(idle)', '', 'idle'],
    ['x509 in @peculiar', 'sign', 'file:///r/node_modules/@peculiar/x509/build/x509.cjs.js', 'crypto (x509/CSR, signing, keys)'],
    ['document marshalling', 'marshall', 'file:///r/node_modules/@aws-sdk/util-dynamodb/dist-cjs/index.js', 'DynamoDB marshalling (util/lib-dynamodb)'],
    ['the SDK\'s signer', 'signRequest', 'file:///r/node_modules/@smithy/signature-v4/dist-cjs/index.js', 'AWS SDK / smithy (other)'],
    ['the broker', 'handle', 'file:///r/node_modules/aedes/lib/handlers/index.js', 'MQTT broker (aedes, mqtt-packet)'],
    ['node http', 'socketOnData', 'node:_http_client', 'HTTP (node http, undici/fetch)'],
    ['our handler', 'register', 'file:///r/lambdas/use-cases/register.ts', 'our code: lambdas/'],
    ['a native frame (no script): its caller decides', 'writev', '', undefined],
  ])('%s', (_n, fn, url, area) => {
    expect(areaOf(url, fn)).toBe(area);
  });

  it('self time by area and function from the samples; a native frame counts in its caller\'s area; inclusive counts a sample once per area', () => {
    // root → sdk.send → (native) hmac ; root → idle ; root → lambdas handler → sdk.send (again)
    const p: CpuProfile = {
      nodes: [
        frame(1, '(root)', '', [2, 4, 5]),
        frame(2, 'send', 'file:///r/node_modules/@smithy/core/index.js', [3]),
        frame(3, 'hmac', ''),
        frame(4, '(idle)', ''),
        frame(5, 'handle', 'file:///r/lambdas/handlers/device.ts', [6]),
        frame(6, 'send', 'file:///r/node_modules/@smithy/core/index.js'),
      ],
      startTime: 0, endTime: 10_000,
      // Sample i's time is the delta before sample i+1 (µs).
      samples: [3, 3, 4, 6, 5],
      timeDeltas: [0, 1000, 1000, 4000, 2000, 2000],
    };
    const s = summarize(p);
    expect(s.sampledMs).toBe(10);
    expect(s.selfByArea).toEqual([
      { area: 'AWS SDK / smithy (other)', ms: 4 },
      { area: 'idle', ms: 4 },
      { area: 'our code: lambdas/', ms: 2 },
    ]);
    expect(s.inclusiveByArea).toEqual(expect.arrayContaining([{ area: 'AWS SDK / smithy (other)', ms: 4 }, { area: 'our code: lambdas/', ms: 4 }]));
    expect(s.topSelf.find((f) => f.fn === 'hmac (native)')).toEqual({ fn: 'hmac (native)', area: 'AWS SDK / smithy (other)', ms: 2 });
    expect(s.topInclusive.find((f) => f.fn.startsWith('send'))).toMatchObject({ ms: 4 });
  });
});
