/**
 * Parses a hosts file for `hosts import`: CSV with a header (uid,name,site,tags; tags as
 * `k=v;k=v`) or a JSON array of {uid, name?, site?, tags?}. Every row is checked against the
 * API's own schema before anything is sent; errors name the file line.
 */
import { InvalidArgumentError } from 'commander';
import { batchHostsBody } from '../lambdas/contracts/api.js';
import { CliError, EXIT } from './errors.js';
import { parseTag, type Tags } from './parse.js';

export interface HostRow {
  uid: string;
  name?: string;
  site?: string;
  tags?: Tags;
}

export const MAX_BATCH = 10_000;
const MAX_REPORTED = 20;
const COLUMNS = ['uid', 'name', 'site', 'tags'] as const;
const rowSchema = batchHostsBody.shape.hosts.element;

export class ImportError extends CliError {
  constructor(file: string, readonly problems: string[]) {
    const shown = problems.slice(0, MAX_REPORTED).map((p) => `- ${p}`);
    if (problems.length > MAX_REPORTED) shown.push(`- … and ${problems.length - MAX_REPORTED} more`);
    super(`${file}: ${problems.length === 1 ? '1 problem' : `${problems.length} problems`}; nothing was imported`, EXIT.invalid, [
      ...shown,
      'what to do: fix these lines and run the import again',
    ]);
    this.name = 'ImportError';
  }
}

/** Splits CSV text into records (RFC 4180 quoting) with the line each record starts on. */
export function splitCsv(text: string): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let sawAny = false;
  const s = text.replace(/^\uFEFF/, '');
  const endRecord = (): void => {
    fields.push(field);
    if (sawAny || fields.length > 1 || fields[0] !== '') records.push({ line: start, fields });
    fields = [];
    field = '';
    sawAny = false;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      sawAny = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      sawAny = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else {
      field += c;
    }
  }
  if (quoted) throw new CliError(`line ${start}: a quoted field is not closed`, EXIT.invalid);
  endRecord();
  return records;
}

function parseTagList(text: string): Tags {
  const tags: Tags = {};
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const [k, v] = parseTag(part);
    if (k in tags) throw new InvalidArgumentError(`tag "${k}" appears twice`);
    tags[k] = v;
  }
  return tags;
}

/** Validates rows (schema, duplicates, batch size); throws ImportError listing every problem. */
function check(file: string, rows: { where: string; raw: unknown; problem?: string }[]): HostRow[] {
  const problems: string[] = [];
  const out: HostRow[] = [];
  const firstSeen = new Map<string, string>();
  for (const r of rows) {
    if (r.problem) {
      problems.push(`${r.where}: ${r.problem}`);
      continue;
    }
    const parsed = rowSchema.safeParse(r.raw);
    if (!parsed.success) {
      const uid = (r.raw as { uid?: unknown })?.uid;
      const who = typeof uid === 'string' && uid ? ` (uid ${uid})` : '';
      for (const issue of parsed.error.issues) {
        const path = issue.path.length ? issue.path.join('.') : 'row';
        problems.push(`${r.where}${who}: ${path}: ${issue.message}`);
      }
      continue;
    }
    const prev = firstSeen.get(parsed.data.uid);
    if (prev) problems.push(`${r.where}: uid "${parsed.data.uid}" already appears on ${prev}`);
    else firstSeen.set(parsed.data.uid, r.where);
    out.push(parsed.data);
  }
  if (rows.length === 0) problems.push('no hosts in the file');
  if (rows.length > MAX_BATCH) {
    problems.unshift(`${rows.length} hosts; one import takes at most ${MAX_BATCH.toLocaleString('en-US')}: split the file`);
  }
  if (problems.length) throw new ImportError(file, problems);
  return out;
}

export function parseHostsCsv(text: string, file = 'input'): HostRow[] {
  const records = splitCsv(text);
  if (records.length === 0) throw new ImportError(file, ['the file is empty; expected a header line uid,name,site,tags']);
  const header = records[0].fields.map((h) => h.trim().toLowerCase());
  const headerProblems: string[] = [];
  header.forEach((h, i) => {
    if (!(COLUMNS as readonly string[]).includes(h)) headerProblems.push(`line ${records[0].line}: unknown column "${h}" (column ${i + 1}); expected ${COLUMNS.join(',')}`);
    else if (header.indexOf(h) !== i) headerProblems.push(`line ${records[0].line}: column "${h}" appears twice`);
  });
  if (!header.includes('uid')) headerProblems.push(`line ${records[0].line}: the header must name a "uid" column, e.g. ${COLUMNS.join(',')}`);
  if (headerProblems.length) throw new ImportError(file, headerProblems);

  const rows = records.slice(1).map(({ line, fields }) => {
    const where = `line ${line}`;
    if (fields.length !== header.length) {
      return { where, raw: undefined, problem: `expected ${header.length} fields (${header.join(',')}), found ${fields.length}; quote fields that contain commas` };
    }
    const raw: Record<string, unknown> = {};
    try {
      header.forEach((h, i) => {
        const v = fields[i].trim();
        if (v === '') return;
        raw[h] = h === 'tags' ? parseTagList(v) : v;
      });
    } catch (err) {
      return { where, raw: undefined, problem: `tags: ${(err as Error).message}` };
    }
    return { where, raw };
  });
  return check(file, rows);
}

/** Offsets where each element of a top-level JSON array starts (to name lines in errors). */
function arrayElementOffsets(text: string): number[] {
  const offsets: number[] = [];
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 1 && expectElement && !/\s/.test(c) && c !== ']') {
      offsets.push(i);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return offsets;
}

const lineAt = (text: string, offset: number): number => text.slice(0, offset).split('\n').length;

/** Where JSON.parse failed: V8 gives either "at position N" or a quoted excerpt around the token. */
function jsonErrorOffset(text: string, message: string): number | undefined {
  const pos = /at position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  const excerpt = /^Unexpected token '(.+?)', (?:\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON$/.exec(message);
  if (!excerpt) return undefined;
  const at = text.indexOf(excerpt[2]);
  const inner = excerpt[2].indexOf(excerpt[1]);
  return at >= 0 && inner >= 0 ? at + inner : undefined;
}

export function parseHostsJson(text: string, file = 'input'): HostRow[] {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const offset = jsonErrorOffset(text, (err as Error).message);
    const where = offset !== undefined ? `line ${lineAt(text, offset)}: ` : '';
    const why = (err as Error).message.replace(/, (\.\.\.)?"[\s\S]*" is not valid JSON$/, '');
    throw new ImportError(file, [`${where}not valid JSON (${why.length > 120 ? `${why.slice(0, 120)}…` : why})`]);
  }
  if (!Array.isArray(data)) {
    throw new ImportError(file, ['expected a JSON array of hosts, e.g. [{"uid": "hw-1", "site": "shop-12", "tags": {"env": "prod"}}]']);
  }
  const offsets = arrayElementOffsets(text);
  const rows = data.map((raw, i) => {
    const where = offsets[i] !== undefined ? `line ${lineAt(text, offsets[i])} (item ${i + 1})` : `item ${i + 1}`;
    if (raw && typeof raw === 'object' && typeof (raw as HostRow).tags === 'string') {
      try {
        return { where, raw: { ...raw, tags: parseTagList((raw as { tags: string }).tags) } };
      } catch (err) {
        return { where, raw, problem: `tags: ${(err as Error).message}` };
      }
    }
    return { where, raw };
  });
  return check(file, rows);
}

/** Chooses the parser from the extension (.json/.csv) or, failing that, the first character. */
export function parseHostsFile(file: string, text: string): HostRow[] {
  const lower = file.toLowerCase();
  const json = lower.endsWith('.json') || (!lower.endsWith('.csv') && /^\s*\[/.test(text.replace(/^\uFEFF/, '')));
  return json ? parseHostsJson(text, file) : parseHostsCsv(text, file);
}
