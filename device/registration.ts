import qrcode from 'qrcode-terminal';
import { deviceRegisterResponse, type DeviceRegisterBody, type Inventory } from '../lambdas/contracts/device.js';
import { Backoff, retryAfterDelay, sleep as defaultSleep, type Sleep } from './backoff.js';
import { signProof } from './identity.js';

export type Approved = Extract<import('zod').infer<typeof deviceRegisterResponse>, { status: 'approved' }>;
export type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** The control plane refused this host for good: retrying cannot help, a person must act. */
export class RegistrationRefused extends Error {
  override readonly name = 'RegistrationRefused';
  constructor(readonly code: string, readonly status: number, readonly technicianMessage: string) {
    super(technicianMessage);
  }
}

/** undici's codes for a connection that closed under a request (`fetch failed`'s cause). */
const CONNECTION_CLOSED = new Set(['UND_ERR_SOCKET', 'ECONNRESET']);

/** Problem codes worth retrying (after a backoff): the clock may be fixed by NTP meanwhile. */
const RETRYABLE_CODES = new Set(['proof-expired', 'proof-required', 'throttled', 'rate-limited']);

/** What the person at the site (or the operator) should do, per refusal code. */
const TECHNICIAN_HINTS: Record<string, string> = {
  'token-expired': 'The registration token has expired. Ask an operator for new user-data with a fresh token (or put a new "registrationToken" into /oem/edgefleet/agent.json) and restart the agent.',
  'token-revoked': 'The registration token was revoked. Ask an operator for a new token and update /oem/edgefleet/agent.json.',
  'token-used-up': 'The registration token has been used as many times as allowed. Ask an operator for a new token.',
  'invalid-token': 'The registration token is not valid for this control plane. Check "apiUrl" and "registrationToken" in /oem/edgefleet/agent.json.',
  'host-rejected': 'An operator rejected this host. It stays out of the fleet until an operator deletes the rejected host; then restart the agent.',
  'host-decommissioned': 'This host was decommissioned. An operator must delete it before it can register again.',
  'host-key-mismatch': 'Another registration for this hardware id is pending with a different key (was the host re-installed?). An operator must reject or delete it, or issue a token that allows re-registration.',
  'host-already-registered': 'This hardware id is already registered with another key (was the host re-installed?). An operator must delete the old host, or issue a token that allows re-registration.',
  'wrong-project': 'This hardware id belongs to another project than the token. Use a token of that project.',
  'proof-invalid': 'The control plane holds another key for this host. An operator must delete the host (or allow re-registration) before it can register again.',
};

export interface RegistrationInput {
  readonly apiUrl: string;
  readonly token: string;
  readonly uid: string;
  readonly keyPem: string;
  readonly csrPem: string;
  readonly inventory: Inventory;
  readonly project?: string;
  /** Site and tags from the install configuration. */
  readonly site?: string;
  readonly tags?: Record<string, string>;
}

export interface RegistrationDeps {
  readonly fetch?: typeof fetch;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  readonly now?: () => Date;
  readonly log?: Log;
  /** Shows the pairing code to the person at the console; defaults to stdout with a QR code. */
  readonly showPairing?: (p: { hostId: string; pairingCode: string; qrText: string }) => void;
  readonly signal?: AbortSignal;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Told when a request goes out, a backoff starts (`reason`: why), or the host waits for approval; `retries` counts the backoffs so far. */
  readonly onProgress?: (p: { readonly step: 'request' | 'backoff' | 'pending'; readonly retries: number; readonly reason?: string }) => void;
}

export function printPairing(p: { hostId: string; pairingCode: string; qrText: string }, write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  const lines = [
    '',
    '==================== EdgeFleet registration ====================',
    ` This host (${p.hostId}) waits for approval.`,
    ` Pairing code: ${p.pairingCode}`,
    ' Give the code to your operator, or let them scan the QR code:',
  ];
  write(`${lines.join('\n')}\n`);
  qrcode.generate(p.qrText, { small: true }, (qr) => write(`${qr}\n`));
  write('=================================================================\n\n');
}

class Aborted extends Error {}

interface Problem { readonly code?: string; readonly title?: string; readonly detail?: string }

async function readProblem(res: Response): Promise<Problem> {
  try {
    const body = (await res.json()) as Problem;
    return typeof body === 'object' && body ? body : {};
  } catch {
    return {};
  }
}

/** The registration's backoff without a Retry-After: full jitter from 1 s, doubling up to 5 minutes. */
export const REGISTRATION_BACKOFF = { baseMs: 1000, capMs: 5 * 60_000 } as const;

function retryAfterMs(res: Response): number | undefined {
  const h = res.headers.get('retry-after');
  if (!h) return undefined;
  const secs = Number(h);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(h);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/**
 * Registers the host: POST /v1/device/register with the CSR and a fresh proof on every call,
 * until approved. Network errors, 408, 429 and 5xx back off with full jitter, or, when the answer
 * carries a Retry-After, wait that instead, plus up to 1 s of jitter; while pending it polls every `pollAfterSeconds` and shows the pairing
 * code once; a terminal refusal throws RegistrationRefused with a message for the technician.
 * Resolves undefined when the signal aborts.
 */
export async function register(input: RegistrationInput, deps: RegistrationDeps = {}): Promise<Approved | undefined> {
  const doFetch = deps.fetch ?? fetch;
  const doSleep = deps.sleep ?? defaultSleep;
  const now = deps.now ?? (() => new Date());
  const log: Log = deps.log ?? (() => undefined);
  const show = deps.showPairing ?? printPairing;
  const random = deps.random ?? Math.random;
  const maxDelayMs = deps.maxDelayMs ?? REGISTRATION_BACKOFF.capMs;
  const backoff = new Backoff({ baseMs: deps.baseDelayMs ?? REGISTRATION_BACKOFF.baseMs, capMs: maxDelayMs, random });
  const url = `${input.apiUrl.replace(/\/+$/, '')}/v1/device/register`;
  let shownCode: string | undefined;
  let retries = 0;
  const progress = (step: 'request' | 'backoff' | 'pending', reason?: string) => deps.onProgress?.({ step, retries, ...(reason === undefined ? {} : { reason }) });

  const wait = async (ms: number) => {
    await doSleep(ms, deps.signal);
    if (deps.signal?.aborted) throw new Aborted();
  };
  // The last attempt was retried at once after its connection closed under it (below).
  let retriedAtOnce = false;
  const retry = async (reason: string, res?: Response, atOnce = false) => {
    retriedAtOnce = atOnce;
    retries++;
    if (atOnce) {
      log('warn', `registration: ${reason}; retrying at once on a new connection (the request is idempotent)`, { attempt: backoff.attempts, delayMs: 0 });
      progress('backoff', reason);
      return;
    }
    // A Retry-After is the server's plan for when to come back, taken in place of this host's own
    // doubling (a host that met a few 429s without one would otherwise keep waiting minutes after
    // the server said "2 s"; Kubernetes' client-go also waits what the server says), with up to a
    // second of jitter (retryAfterDelay).
    const given = res ? retryAfterMs(res) : undefined;
    const delay = given === undefined ? backoff.next() : retryAfterDelay(given, maxDelayMs, random);
    log('warn', `registration: ${reason}; retrying in ${Math.round(delay / 1000)} s`, { attempt: backoff.attempts, delayMs: delay });
    progress('backoff', reason);
    await wait(delay);
  };

  try {
    for (;;) {
      if (deps.signal?.aborted) return undefined;
      const body: DeviceRegisterBody = {
        token: input.token, uid: input.uid, csr: input.csrPem, inventory: input.inventory,
        ...(input.site ? { site: input.site } : {}), ...(input.tags && Object.keys(input.tags).length ? { tags: input.tags } : {}),
        proof: signProof(input.keyPem, input.uid, now().toISOString()),
      };
      let res: Response;
      progress('request');
      try {
        res = await doFetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body), signal: deps.signal });
      } catch (e) {
        if (deps.signal?.aborted) return undefined;
        const cause = (e as Error & { cause?: { message?: string; code?: string } }).cause;
        // A kept-alive connection the server closed while it was idle fails the next request sent
        // on it ("other side closed"): a race of the two sides' idle timers, likelier on a busy
        // host, and no sign of an overloaded control plane. Registration is idempotent, so the
        // first such failure is retried at once (HTTP clients retry idempotent requests so, RFC
        // 9110 §9.2.2); a second in a row backs off like any other failure.
        const closedUnder = cause?.code !== undefined && CONNECTION_CLOSED.has(cause.code) && !retriedAtOnce;
        await retry(`cannot reach ${url}: ${(e as Error).message}${cause ? ` (${cause.code ?? cause.message ?? ''})` : ''}`, undefined, closedUnder);
        continue;
      }

      retriedAtOnce = false;
      if (res.status === 408 || res.status === 429 || res.status >= 500) {
        const p = await readProblem(res);
        await retry(`the control plane answered ${res.status}${p.code ? ` (${p.code})` : ''}`, res);
        continue;
      }
      if (res.status >= 400) {
        const p = await readProblem(res);
        const code = p.code ?? `http-${res.status}`;
        if (RETRYABLE_CODES.has(code)) {
          await retry(`refused for now (${code}): ${p.detail ?? p.title ?? ''}`, res);
          continue;
        }
        const hint = TECHNICIAN_HINTS[code] ?? 'Registration was refused. Check the agent settings in /oem/edgefleet/agent.json and ask an operator.';
        const detail = p.detail ?? p.title;
        throw new RegistrationRefused(code, res.status, `${hint}${detail ? ` (server: ${detail})` : ''} [code ${code}, HTTP ${res.status}]`);
      }

      let parsed: ReturnType<typeof deviceRegisterResponse.safeParse>;
      try {
        parsed = deviceRegisterResponse.safeParse(await res.json());
      } catch {
        await retry(`the control plane answered ${res.status} with a body that is not JSON`);
        continue;
      }
      if (!parsed.success) {
        await retry(`unexpected registration response: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        continue;
      }
      backoff.reset();
      const r = parsed.data;
      if (r.status === 'approved') {
        log('info', 'registration approved', { hostId: r.hostId, thingName: r.thingName });
        return r;
      }
      if (shownCode !== r.pairingCode) {
        shownCode = r.pairingCode;
        const q = new URLSearchParams({ host: r.hostId, code: r.pairingCode, ...(input.project ? { project: input.project } : {}) });
        show({ hostId: r.hostId, pairingCode: r.pairingCode, qrText: `edgefleet:pair?${q.toString()}` });
        log('info', 'registration pending approval', { hostId: r.hostId, pairingCode: r.pairingCode });
      }
      // Spread the polls of hosts that started together by up to 10 %.
      const poll = Math.max(1, r.pollAfterSeconds) * 1000;
      progress('pending');
      await wait(Math.round(poll + random() * poll * 0.1));
    }
  } catch (e) {
    if (e instanceof Aborted) return undefined;
    throw e;
  }
}
