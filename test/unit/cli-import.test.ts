import { ImportError, MAX_BATCH, parseHostsCsv, parseHostsFile, parseHostsJson, splitCsv } from '../../cli/import-hosts.js';
import { EXIT } from '../../cli/errors.js';

function importError(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ImportError) return e;
    throw e;
  }
  throw new Error('expected an ImportError');
}

describe('hosts import: CSV', () => {
  it('parses rows, optional fields and k=v;k=v tags', () => {
    const csv = 'uid,name,site,tags\r\nhw-1,Till 1,shop-12,env=prod;tier=pos\nhw-2,,shop-12,\n\n"hw-3","Back office, upstairs",shop-13,"env=dev"\n';
    expect(parseHostsCsv(csv, 'fleet.csv')).toEqual([
      { uid: 'hw-1', name: 'Till 1', site: 'shop-12', tags: { env: 'prod', tier: 'pos' } },
      { uid: 'hw-2', site: 'shop-12' },
      { uid: 'hw-3', name: 'Back office, upstairs', site: 'shop-13', tags: { env: 'dev' } },
    ]);
  });

  it('accepts columns in any order and a header with only uid', () => {
    expect(parseHostsCsv('site,uid\ns1,hw-1\n')).toEqual([{ uid: 'hw-1', site: 's1' }]);
    expect(parseHostsCsv('\uFEFFuid\nhw-1\nhw-2')).toEqual([{ uid: 'hw-1' }, { uid: 'hw-2' }]);
  });

  it('names the line of every bad row and sends nothing', () => {
    const csv = ['uid,name,site,tags', 'hw-1,a,shop-1,', 'hw 2,b,shop-1,', 'hw-3,c,shop 1,', 'hw-4,d,shop-1,env', 'hw-5,e,shop-1', 'hw-1,f,shop-1,'].join('\n');
    const err = importError(() => parseHostsCsv(csv, 'fleet.csv'));
    expect(err.exitCode).toBe(EXIT.invalid);
    expect(err.message).toBe('fleet.csv: 5 problems; nothing was imported');
    const hints = err.hints.join('\n');
    expect(hints).toContain('line 3 (uid hw 2): uid: printable ASCII without spaces');
    expect(hints).toContain('line 4 (uid hw-3): site:');
    expect(hints).toContain('line 5: tags: expected key=value');
    expect(hints).toContain('line 6: expected 4 fields (uid,name,site,tags), found 3');
    expect(hints).toContain('line 7: uid "hw-1" already appears on line 2');
  });

  it('counts lines inside quoted multi-line fields', () => {
    const err = importError(() => parseHostsCsv('uid,name\nhw-1,"two\nlines"\nhw 2,x\n'));
    expect(err.hints.join('\n')).toContain('line 4 (uid hw 2)');
    expect(splitCsv('a,"b""c"\n').map((r) => r.fields)).toEqual([['a', 'b"c']]);
  });

  it('refuses an unknown or missing header column', () => {
    expect(importError(() => parseHostsCsv('uid,serial\nhw-1,x')).hints.join('\n')).toMatch(/line 1: unknown column "serial"/);
    expect(importError(() => parseHostsCsv('hw-1,shop-1\n')).hints.join('\n')).toMatch(/must name a "uid" column/);
    expect(importError(() => parseHostsCsv('')).hints.join('\n')).toMatch(/empty/);
    expect(importError(() => parseHostsCsv('uid,name,site,tags\n')).hints.join('\n')).toMatch(/no hosts/);
  });

  it('refuses more than one batch', () => {
    const csv = 'uid\n' + Array.from({ length: MAX_BATCH + 1 }, (_, i) => `hw-${i}`).join('\n');
    const err = importError(() => parseHostsCsv(csv, 'big.csv'));
    expect(err.hints[0]).toMatch(/10001 hosts; one import takes at most 10,000: split the file/);
  });

  it('lists at most 20 problems and says how many more', () => {
    const csv = 'uid\n' + Array.from({ length: 25 }, (_, i) => `bad ${i}`).join('\n');
    const err = importError(() => parseHostsCsv(csv));
    expect(err.hints.filter((h) => h.startsWith('- line'))).toHaveLength(20);
    expect(err.hints).toContain('- … and 5 more');
  });
});

describe('hosts import: JSON', () => {
  it('parses an array; tags as an object or as k=v;k=v', () => {
    const json = JSON.stringify([{ uid: 'hw-1', site: 's1', tags: { env: 'prod' } }, { uid: 'hw-2', tags: 'a=1;b=2' }]);
    expect(parseHostsJson(json)).toEqual([
      { uid: 'hw-1', site: 's1', tags: { env: 'prod' } },
      { uid: 'hw-2', tags: { a: '1', b: '2' } },
    ]);
  });

  it('names the line and item of a bad element', () => {
    const json = '[\n  {"uid": "hw-1"},\n  {"uid": "hw-2",\n   "site": "bad site"},\n  {"uid": "hw-3", "extra": 1}\n]';
    const hints = importError(() => parseHostsJson(json, 'fleet.json')).hints.join('\n');
    expect(hints).toContain('line 3 (item 2) (uid hw-2): site:');
    expect(hints).toMatch(/line 5 \(item 3\) \(uid hw-3\): row: .*extra/i);
  });

  it('reports malformed JSON and non-arrays', () => {
    expect(importError(() => parseHostsJson('[\n{"uid": }\n]')).hints[0]).toBe("- line 2: not valid JSON (Unexpected token '}')");
    const long = '[\n' + Array.from({ length: 50 }, (_, i) => `  {"uid": "hw-${i}"},`).join('\n') + '\n  {"uid": }\n]';
    expect(importError(() => parseHostsJson(long)).hints[0]).toMatch(/^- line 52: not valid JSON/);
    expect(importError(() => parseHostsJson('[\n{"uid"\n "x"}]')).hints[0]).toMatch(/^- line 3: not valid JSON \(Expected ':'/);
    expect(importError(() => parseHostsJson('{"uid": "hw-1"}')).hints.join('\n')).toMatch(/expected a JSON array/);
  });

  it('chooses the format by extension or content', () => {
    expect(parseHostsFile('x.json', '[{"uid":"a"}]')).toEqual([{ uid: 'a' }]);
    expect(parseHostsFile('x.txt', '[{"uid":"a"}]')).toEqual([{ uid: 'a' }]);
    expect(parseHostsFile('x.csv', 'uid\na')).toEqual([{ uid: 'a' }]);
  });
});
