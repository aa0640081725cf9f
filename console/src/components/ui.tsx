/** A small accessible component set: labelled fields, status badges, alerts, tables, a pager. */
import { useEffect, useState, type ReactNode } from 'react';
import { ApiError } from '../api/client.js';

export function ErrorBanner({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  return <div role="alert" className="banner banner-error">{message}</div>;
}

export function Notice({ children }: { children: ReactNode }) {
  return <div role="status" className="banner banner-info">{children}</div>;
}

const TONE: Record<string, string> = {
  healthy: 'ok', online: 'ok', approved: 'ok', 'in-cluster': 'ok', running: 'ok', succeeded: 'ok',
  unhealthy: 'bad', offline: 'bad', rejected: 'bad', failed: 'bad', degraded: 'warn', unreachable: 'bad',
  pending: 'warn', draft: 'warn', published: 'ok', 'pre-registered': 'neutral', provisioning: 'warn', upgrading: 'warn', updating: 'warn', paused: 'warn',
};

/** A status in words (never colour alone). */
export function Badge({ value }: { value: string | undefined }) {
  const v = value ?? 'unknown';
  return <span className={`badge badge-${TONE[v] ?? 'neutral'}`}>{v}</span>;
}

export function Field({ label, id, children, hint }: { label: string; id: string; children: ReactNode; hint?: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? <small id={`${id}-hint`}>{hint}</small> : null}
    </div>
  );
}

/** Forward-only API cursors with a back stack (one API page loaded at a time). */
export function Pager({ hasPrevious, hasNext, onPrevious, onNext, label }: { hasPrevious: boolean; hasNext: boolean; onPrevious: () => void; onNext: () => void; label: string }) {
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" onClick={onPrevious} disabled={!hasPrevious}>Previous page</button>
      <button type="button" onClick={onNext} disabled={!hasNext}>Next page</button>
    </nav>
  );
}

/**
 * Loads `load()` when `deps` change; `reload` loads again; `every` (ms) polls, or, as a function
 * of the data just loaded (undefined after a failure), says when to look again (undefined: stop).
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[], every?: number | ((data: T | undefined) => number | undefined)): { data?: T; error?: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const after = (ms: number | undefined) => { if (live && ms) timer = setTimeout(() => setTick((t) => t + 1), ms); };
    setState((s) => ({ ...s, loading: true }));
    load().then((data) => {
      if (!live) return;
      setState({ data, loading: false });
      if (typeof every === 'function') after(every(data));
    }, (error: unknown) => {
      if (!live) return;
      setState((s) => ({ ...s, error, loading: false }));
      if (typeof every === 'function') after(every(undefined));
    });
    if (typeof every === 'number') after(every);
    return () => { live = false; if (timer) clearTimeout(timer); };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** Done out of total as a labelled bar (the numbers are in the label and the text beside it). */
export function Bar({ label, value, max }: { label: string; value: number; max: number }) {
  return <progress className="bar" aria-label={label} value={Math.min(value, max)} max={Math.max(1, max)} />;
}

export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}
