/**
 * What an operator reads when a call fails: the API problem's `detail` (RFC 9457, with its
 * stable `code`), or for the gateway's own refusals (`{message}`) what to do next.
 */
export function problemMessage(status: number, body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const b = body as Record<string, unknown>;
    if (typeof b.detail === 'string' && b.detail) {
      const fields = Array.isArray(b.errors)
        ? b.errors.flatMap((e) => (typeof e === 'object' && e !== null && typeof (e as Record<string, unknown>).message === 'string'
          ? [`${String((e as Record<string, unknown>).path ?? '')}: ${String((e as Record<string, unknown>).message)}`.replace(/^: /, '')] : []))
        : [];
      return [b.detail, ...fields].join(' — ') + (typeof b.code === 'string' ? ` (${b.code})` : '');
    }
  }
  if (status === 401) return 'Your sign-in is not valid any more (expired or signed by another control plane): sign in again.';
  if (status === 403) return 'Your role does not allow this; ask a project admin for the operator or admin role.';
  if (status === 404) return 'Not found: the API has no such route or object (was it deleted?).';
  if (status === 413) return 'The request is too large for the API (10 MB at most).';
  if (status === 0) return 'The control plane did not answer: is it running? Check the terminal where `npm start` runs.';
  return `The API answered ${status} without a problem detail; retry, and check the control plane's log if it persists.`;
}
