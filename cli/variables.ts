/**
 * Profile variable values on the command line: `--var NAME=value` (repeatable) and
 * `--var-file <yaml|json>`, shared by `clusters create`, `clusters reconfigure` and
 * `clusters upgrade`.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CliError, EXIT, UsageError } from './errors.js';
import type { Vars } from './parse.js';

export interface VarOpts {
  var?: Vars;
  varFile?: string;
}

export const VAR_HELP = 'a value of a profile variable, NAME=value (repeatable); secret variables are stored in the secret store only';
export const VAR_FILE_HELP = 'a YAML or JSON file mapping variable names to values (keeps secret values out of the shell history)';

/**
 * The variable values of --var-file and --var (a name in both is refused), or undefined when
 * neither is given. `read` reads the file (tests pass their own).
 */
export function buildVariables(o: VarOpts, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): Record<string, string | number | boolean> | undefined {
  if (!o.varFile && !o.var) return undefined;
  let fromFile: Record<string, string | number | boolean> = {};
  if (o.varFile) {
    let doc: unknown;
    try {
      doc = parseYaml(read(o.varFile));
    } catch (err) {
      throw new CliError(`${o.varFile} is not valid YAML or JSON: ${(err as Error).message}`, EXIT.invalid);
    }
    const parsed = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).safeParse(doc);
    if (!parsed.success) throw new CliError(`${o.varFile} must map variable names to values (text, numbers or true/false), e.g. "HOST: shop-12.example"; nothing was sent`, EXIT.invalid);
    fromFile = parsed.data;
  }
  const both = Object.keys(o.var ?? {}).filter((n) => n in fromFile);
  if (both.length > 0) throw new UsageError(`variable ${both.join(', ')} is given both in ${o.varFile} and by --var; give each once`);
  return { ...fromFile, ...(o.var ?? {}) };
}
