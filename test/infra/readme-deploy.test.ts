import { readFileSync } from 'node:fs';
import path from 'node:path';
import { machineSpecs } from '../../lib/constructs/cluster-workflows.js';
import { synthStack } from './helpers.js';

/** README "Deploying to AWS" must match the synthesized default stack (Cognito issuer). */
const readme = readFileSync(path.resolve('README.md'), 'utf8');
const block = (name: string): string => {
  const m = new RegExp(`<!-- ${name}:begin -->([\\s\\S]*?)<!-- ${name}:end -->`).exec(readme);
  if (!m) throw new Error(`README.md has no <!-- ${name}:begin --> … <!-- ${name}:end --> block`);
  return m[1]!;
};
const rows = (name: string): string[][] => block(name).split('\n')
  .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
  .slice(1)
  .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));

describe('README "Deploying to AWS" matches the template', () => {
  const { template } = synthStack();
  const json = template.toJSON() as { Resources: Record<string, any>; Outputs: Record<string, unknown> };
  const resources = Object.values(json.Resources);

  it('lists every resource type with its count, and nothing else', () => {
    const counts: Record<string, number> = {};
    for (const r of resources) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
    const documented = Object.fromEntries(rows('resources').map(([type, count]) => [type!.replace(/`/g, ''), Number(count)]));
    expect(documented).toEqual(counts);
  });

  it('names every output, and no output that does not exist', () => {
    const named = rows('outputs').flatMap(([names]) => [...names!.matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1]!));
    expect(named.sort()).toEqual(Object.keys(json.Outputs).sort());
  });

  it('gives the log retentions as deployed', () => {
    const byRetention: Record<string, number> = {};
    for (const r of resources.filter((x) => x.Type === 'AWS::Logs::LogGroup')) {
      const days = String(r.Properties.RetentionInDays);
      byRetention[days] = (byRetention[days] ?? 0) + 1;
    }
    const documented = Object.fromEntries(rows('retentions').map(([, days, count]) => [days!, Number(count)]));
    expect(documented).toEqual(byRetention);
  });

  it('names all seven state machines', () => {
    const section = readme.slice(readme.indexOf('## Deploying to AWS'), readme.indexOf('### First sign-in'));
    for (const [, spec] of machineSpecs()) expect(section).toContain(`\`<stack>-${spec.constructId}\``);
    expect(machineSpecs()).toHaveLength(7);
  });

  it('keeps the first sign-in section', () => {
    expect(readme).toMatch(/^### First sign-in$/m);
  });
});
