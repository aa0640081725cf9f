/**
 * One Idempotency-Key per intent: the same key for every click until the call succeeds (a double
 * click or a retry after a network error creates once), a new one after. `busy` disables the button.
 */
import { useRef, useState } from 'react';
import { newKey } from '../api/client.js';

export function useIntent(): { busy: boolean; error: unknown; run: <T>(call: (key: string) => Promise<T>) => Promise<T | undefined> } {
  const key = useRef(newKey());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async <T,>(call: (key: string) => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      const out = await call(key.current);
      key.current = newKey();
      return out;
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}
