/**
 * Output: aligned tables and key/value details for people, JSON for scripts.
 * Colors only when stdout is a TTY and NO_COLOR is unset. Values from the API are shown with
 * control characters replaced, so a crafted host name cannot drive the operator's terminal.
 */
export type Format = 'table' | 'json';
export const FORMATS: readonly Format[] = ['table', 'json'];

type Cell = string | number | boolean | undefined | null;

export interface Column<T> {
  header: string;
  value: (row: T) => Cell;
  /** Colors the cell when colors are on (statuses). */
  status?: boolean;
}

const ANSI = { bold: '\x1b[1m', green: '\x1b[32m', yellow: '\x1b[33m', red: '\x1b[31m', reset: '\x1b[0m' } as const;

const GOOD = new Set(['healthy', 'approved', 'in-cluster', 'running', 'succeeded', 'online', 'success', 'published', 'active', 'released', 'ready']);
const WAIT = new Set(['pending', 'pre-registered', 'provisioning', 'upgrading', 'queued', 'paused', 'draft', 'deleting', 'updating', 'claimed', 'sent', 'accepted', 'progress', 'installing']);
const BAD = new Set(['unhealthy', 'unreachable', 'rejected', 'failed', 'degraded', 'denied', 'offline', 'revoked', 'expired', 'cancelled', 'decommissioned', 'timed-out', 'error']);

export function statusColor(value: string): string | undefined {
  if (GOOD.has(value)) return ANSI.green;
  if (WAIT.has(value)) return ANSI.yellow;
  if (BAD.has(value)) return ANSI.red;
  return undefined;
}

/** Makes an API value safe and single-line for a terminal. */
export function cellText(v: Cell): string {
  if (v === undefined || v === null || v === '') return '-';
  return String(v).replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
}

export function formatTags(tags: Record<string, string> | undefined): string {
  const entries = Object.entries(tags ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '';
}

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], opts: { color?: boolean } = {}): string {
  const cells = rows.map((r) => columns.map((c) => cellText(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const last = columns.length - 1;
  const line = (values: string[], paint: (v: string, i: number) => string): string =>
    values
      .map((v, i) => {
        const padded = i === last ? v : v.padEnd(widths[i]);
        return paint(padded, i);
      })
      .join('  ')
      .trimEnd();
  const header = line(
    columns.map((c) => c.header),
    (v) => (opts.color ? `${ANSI.bold}${v}${ANSI.reset}` : v),
  );
  const body = cells.map((row) =>
    line(row, (padded, i) => {
      const color = opts.color && columns[i].status ? statusColor(row[i]) : undefined;
      return color ? `${color}${padded}${ANSI.reset}` : padded;
    }),
  );
  return [header, ...body].join('\n') + '\n';
}

/** `Key:  value` lines, keys aligned; rows with an undefined value are left out. */
export function renderDetails(pairs: ReadonlyArray<readonly [string, Cell]>, opts: { color?: boolean } = {}): string {
  const shown = pairs.filter(([, v]) => v !== undefined && v !== null && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return (
    shown
      .map(([k, v]) => {
        const text = cellText(v);
        const color = opts.color ? statusColor(text) : undefined;
        return `${`${k}:`.padEnd(width)}  ${color ? `${color}${text}${ANSI.reset}` : text}`;
      })
      .join('\n') + '\n'
  );
}

export interface OutputSink {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export class Output {
  constructor(
    private readonly sink: OutputSink,
    readonly format: Format,
    readonly color: boolean,
  ) {}

  get isJson(): boolean {
    return this.format === 'json';
  }

  json(value: unknown): void {
    this.sink.stdout(JSON.stringify(value, null, 2) + '\n');
  }

  /** A line of result text for people (stdout). */
  line(text = ''): void {
    this.sink.stdout(text + '\n');
  }

  /** Advice or progress that is not the result (stderr, so JSON on stdout stays clean). */
  note(text: string): void {
    this.sink.stderr(text + '\n');
  }

  table<T>(rows: readonly T[], columns: readonly Column<T>[], emptyMessage: string): void {
    if (rows.length === 0) this.note(emptyMessage);
    else this.sink.stdout(renderTable(rows, columns, { color: this.color }));
  }

  details(pairs: ReadonlyArray<readonly [string, Cell]>): void {
    this.sink.stdout(renderDetails(pairs, { color: this.color }));
  }

  /** A list page: table or `{items, nextCursor}`; says how to get more when truncated. */
  page<T>(page: { items: T[]; nextCursor?: string }, columns: readonly Column<T>[], emptyMessage: string): void {
    if (this.isJson) {
      this.json(page.nextCursor ? { items: page.items, nextCursor: page.nextCursor } : { items: page.items });
      return;
    }
    this.table(page.items, columns, emptyMessage);
    if (page.nextCursor) this.note(`(more results: add --all, or --cursor ${page.nextCursor})`);
  }
}
