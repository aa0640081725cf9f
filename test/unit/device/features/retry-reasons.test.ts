import { countRetry, MAX_RETRY_REASONS, retryReasonKind, type AgentState } from '../../../../device/features/feature.js';

describe('retry reasons: what kind of failure an agent retried after', () => {
  it.each([
    ['Failed to connect: aws-c-io: AWS_IO_TLS_NEGOTIATION_TIMEOUT, Channel shutdown due to tls negotiation timeout', 'AWS_IO_TLS_NEGOTIATION_TIMEOUT'],
    ['Failed to connect: aws-c-io: AWS_IO_SOCKET_CONNECTION_REFUSED, socket connection refused.', 'AWS_IO_SOCKET_CONNECTION_REFUSED'],
    ['the control plane answered 503 (unavailable)', 'the control plane answered 503 (unavailable)'],
    ['the control plane answered 429 (registration-in-progress)', 'the control plane answered 429 (registration-in-progress)'],
    ['the control plane answered 503 with a body that is not JSON, port 40155', 'the control plane answered 503 with a body that is not JSON, port #'],
    ['cannot reach http://127.0.0.1:40155/v1/device/register: fetch failed (ECONNRESET)', 'ECONNRESET'],
    ['cannot reach http://127.0.0.1:40155/v1/device/register: fetch failed (UND_ERR_HEADERS_TIMEOUT)', 'UND_ERR_HEADERS_TIMEOUT'],
    ['refused for now (proof-expired): proof.at must be within 5 minutes of the server', 'refused for now (proof-expired): proof.at must be within # minutes of the server'],
    ['x'.repeat(200), 'x'.repeat(80)],
  ])('%s → %s', (reason, kind) => {
    expect(retryReasonKind(reason)).toBe(kind);
  });

  it('counts each failed attempt under its kind, per what failed', () => {
    const s: AgentState = { phase: 'connecting', commandsRun: 0, statusSent: 0 };
    countRetry(s, 'mqtt', 'Failed to connect: aws-c-io: AWS_IO_TLS_NEGOTIATION_TIMEOUT, x');
    countRetry(s, 'mqtt', 'Failed to connect: aws-c-io: AWS_IO_TLS_NEGOTIATION_TIMEOUT, y');
    countRetry(s, 'registration', 'the control plane answered 429');
    countRetry(s, 'mqtt', undefined);
    expect(s.retryReasons).toEqual({ 'mqtt: AWS_IO_TLS_NEGOTIATION_TIMEOUT': 2, 'registration: the control plane answered 429': 1, 'mqtt: unknown': 1 });
  });

  it(`keeps at most ${MAX_RETRY_REASONS} kinds: later kinds count as other, known kinds still count`, () => {
    const s: AgentState = { phase: 'connecting', commandsRun: 0, statusSent: 0 };
    for (let i = 0; i < MAX_RETRY_REASONS; i++) countRetry(s, 'mqtt', `reason ${String.fromCharCode(97 + i)}`);
    countRetry(s, 'mqtt', 'a reason never seen');
    countRetry(s, 'mqtt', 'another reason never seen');
    countRetry(s, 'mqtt', 'reason a');
    expect(Object.keys(s.retryReasons!)).toHaveLength(MAX_RETRY_REASONS + 1);
    expect(s.retryReasons!['mqtt: other']).toBe(2);
    expect(s.retryReasons!['mqtt: reason a']).toBe(2);
  });
});
