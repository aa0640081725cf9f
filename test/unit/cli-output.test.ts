import { Output, cellText, formatTags, renderDetails, renderTable, type Column } from '../../cli/output.js';

interface Row {
  id: string;
  status: string;
  site?: string;
}
const cols: Column<Row>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'STATUS', value: (r) => r.status, status: true },
  { header: 'SITE', value: (r) => r.site },
];
const rows: Row[] = [
  { id: 'hw-1', status: 'approved', site: 'shop-12' },
  { id: 'hw-1000', status: 'pending' },
];

describe('table output', () => {
  it('aligns columns, shows "-" for empty cells and has no trailing spaces', () => {
    expect(renderTable(rows, cols)).toBe(['ID       STATUS    SITE', 'hw-1     approved  shop-12', 'hw-1000  pending   -', ''].join('\n'));
  });

  it('uses colors only when asked (TTY), and no escape codes otherwise', () => {
    expect(renderTable(rows, cols)).not.toContain('\x1b[');
    const colored = renderTable(rows, cols, { color: true });
    expect(colored).toContain('\x1b[1mID');
    expect(colored).toContain('\x1b[32mapproved');
    expect(colored).toContain('\x1b[33mpending');
  });

  it('neutralises control characters from API values', () => {
    expect(cellText('evil\x1b[2Jname\nnext')).toBe('evil [2Jname next');
    expect(renderTable([{ id: 'a\tb', status: 'x' }], cols).split('\n')[1]).toBe('a b  x       -');
  });

  it('renders details with aligned keys and skips empty values', () => {
    expect(renderDetails([['ID', 'hw-1'], ['Name', undefined], ['Created at', '2026-01-01T00:00:00Z']])).toBe('ID:          hw-1\nCreated at:  2026-01-01T00:00:00Z\n');
    expect(formatTags({ env: 'prod', tier: 'pos' })).toBe('env=prod,tier=pos');
  });

  it('prints pages as a table or JSON, and says how to get more', () => {
    const out: string[] = [];
    const err: string[] = [];
    const sink = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) };
    new Output(sink, 'table', false).page({ items: rows, nextCursor: 'c1' }, cols, 'none');
    expect(out.join('')).toContain('hw-1000');
    expect(err.join('')).toContain('--all, or --cursor c1');

    out.length = 0;
    err.length = 0;
    new Output(sink, 'json', false).page({ items: rows }, cols, 'none');
    expect(JSON.parse(out.join(''))).toEqual({ items: rows });

    out.length = 0;
    new Output(sink, 'table', false).page({ items: [] }, cols, 'No hosts match.');
    expect(out).toEqual([]);
    expect(err.join('')).toContain('No hosts match.');
  });
});
