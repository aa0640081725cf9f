import { ApiError, CliError, EXIT, UnreachableError, describeError, exitCodeForStatus, networkReason } from '../../cli/errors.js';
import { parseProblem } from '../../cli/client.js';

const problem = (status: number, code: string, detail: string, extra: object = {}) => ({
  type: `https://edgefleet.dev/problems/${code}`,
  title: 'Problem',
  status,
  code,
  detail,
  requestId: 'req-123',
  ...extra,
});

describe('exit codes', () => {
  it.each([
    [200, EXIT.ok],
    [404, EXIT.notFound],
    [409, EXIT.conflict],
    [412, EXIT.conflict],
    [401, EXIT.auth],
    [403, EXIT.auth],
    [400, EXIT.invalid],
    [413, EXIT.invalid],
    [415, EXIT.invalid],
    [422, EXIT.invalid],
    [429, EXIT.unavailable],
    [500, EXIT.unavailable],
    [503, EXIT.unavailable],
    [405, EXIT.unexpected],
  ])('HTTP %i → exit %i', (status, code) => {
    expect(exitCodeForStatus(status)).toBe(code);
  });
});

describe('error messages', () => {
  it('shows what failed, the detail, code, field errors and request id', () => {
    const p = problem(422, 'validation-failed', 'the request body is not valid', {
      errors: [{ path: 'body.hosts.3.uid', message: 'printable ASCII without spaces' }],
    });
    const err = new ApiError('import 4 hosts from fleet.csv', 422, parseProblem(JSON.stringify(p)), undefined);
    const { text, exitCode } = describeError(err);
    expect(exitCode).toBe(EXIT.invalid);
    expect(text).toContain('error: cannot import 4 hosts from fleet.csv: the request body is not valid (code validation-failed, HTTP 422)');
    // A detail that repeats the field errors is cut; a detail that already says "cannot" is not prefixed.
    const repeated = problem(400, 'validation-failed', 'the request body is not valid: body.site: bad site; body.uid: bad uid', {
      errors: [{ path: 'body.site', message: 'bad site' }, { path: 'body.uid', message: 'bad uid' }],
    });
    expect(describeError(new ApiError('create host "x"', 400, repeated, undefined)).text).toMatch(/^error: cannot create host "x": the request body is not valid \(code/);
    const own = problem(409, 'host-not-registered', 'cannot approve host hw-1: it has not registered yet');
    expect(describeError(new ApiError('approve host "hw-1"', 409, own, undefined)).text).toMatch(/^error: cannot approve host hw-1: it has not registered yet \(code host-not-registered, HTTP 409\)/);
    expect(text).toContain('  - body.hosts.3.uid: printable ASCII without spaces');
    expect(text).toContain('request id: req-123');
  });

  it('explains a version mismatch and says to retry', () => {
    const err = new ApiError('update host "hw-1"', 412, problem(412, 'version-mismatch', 'host hw-1 is at version 4, not 3'), undefined);
    const { text, exitCode } = describeError(err);
    expect(exitCode).toBe(EXIT.conflict);
    expect(text).toMatch(/someone else changed it .* run the command again/);
  });

  it('uses command-specific advice over generic advice', () => {
    const err = new ApiError('get host "x"', 404, problem(404, 'not-found', 'no host x'), undefined, { 404: 'list hosts with `edgefleet hosts list`' });
    expect(describeError(err).text).toContain('what to do: list hosts with `edgefleet hosts list`');
  });

  it('says where the refused token came from', () => {
    const err = new ApiError('list hosts', 401, problem(401, 'unauthenticated', 'invalid token'), undefined);
    const { text, exitCode } = describeError(err, { tokenSource: 'EDGEFLEET_TOKEN' });
    expect(exitCode).toBe(EXIT.auth);
    expect(text).toContain('(from EDGEFLEET_TOKEN) was refused');
    expect(text).toContain('edgefleet login');
  });

  it('shows a non-problem body briefly, with the request id header', () => {
    const err = new ApiError('list hosts', 502, parseProblem('<html>Bad gateway</html>'), '<html>Bad gateway</html>', {}, 'apigw-1');
    const { text, exitCode } = describeError(err, { idempotencyKey: 'k-1' });
    expect(exitCode).toBe(EXIT.unavailable);
    expect(text).toContain('unexpected response: <html>Bad gateway</html> (HTTP 502)');
    expect(text).toContain('request id: apigw-1');
    expect(text).toContain('--idempotency-key k-1');
  });

  it('tells the operator how to reach the API when it is unreachable', () => {
    const { text, exitCode } = describeError(new UnreachableError('list hosts', 'http://127.0.0.1:8080', 'connection refused'));
    expect(exitCode).toBe(EXIT.unavailable);
    expect(text).toContain('cannot reach the EdgeFleet API at http://127.0.0.1:8080 (connection refused)');
    expect(text).toContain('`npm start`');
    expect(text).toContain('EDGEFLEET_URL');
    expect(text).toContain('edgefleet login');
  });

  it('maps CLI errors to their code and anything else to 1', () => {
    expect(describeError(new CliError('bad', EXIT.usage, ['hint'])).text).toBe('error: bad\n  hint\n');
    const unexpected = describeError(new TypeError('boom'));
    expect(unexpected.exitCode).toBe(EXIT.unexpected);
    expect(unexpected.text).toContain('bug in the edgefleet CLI');
  });

  it('names network failures', () => {
    expect(networkReason({ cause: { code: 'ECONNREFUSED' } })).toBe('connection refused');
    expect(networkReason({ cause: { code: 'ENOTFOUND' } })).toBe('host name not found');
    expect(networkReason({ name: 'TimeoutError' })).toBe('timed out waiting for a response');
    expect(networkReason({ cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } })).toMatch(/TLS error/);
  });
});
