import { InvalidArgumentError } from 'commander';
import { collectTags, collectWorkers, parseExpiry, parseIdList, parsePositiveInt, parseProfileRef, parseSince, parseTag, parseWorkerPool } from '../../cli/parse.js';

describe('CLI flag parsers', () => {
  it('parses --tag key=value and collects repeats', () => {
    expect(parseTag('env=prod')).toEqual(['env', 'prod']);
    expect(parseTag('note=')).toEqual(['note', '']);
    let tags = collectTags('env=prod', undefined);
    tags = collectTags('tier=pos', tags);
    tags = collectTags('env=prod', tags);
    expect(tags).toEqual({ env: 'prod', tier: 'pos' });
  });

  it.each([
    ['noequals', /expected key=value/],
    ['=value', /expected key=value/],
    ['bad key=x', /tag key "bad key"/],
    ['k=a=b', /tag value "a=b"/],
  ])('refuses tag %p', (input, message) => {
    expect(() => parseTag(input)).toThrow(InvalidArgumentError);
    expect(() => parseTag(input)).toThrow(message);
  });

  it('refuses the same tag twice with different values', () => {
    expect(() => collectTags('env=dev', { env: 'prod' })).toThrow(/given twice/);
  });

  it('parses --workers pool=a,b and refuses duplicate pools', () => {
    expect(parseWorkerPool('pos=hw-3, hw-4')).toEqual({ name: 'pos', hostIds: ['hw-3', 'hw-4'] });
    const pools = collectWorkers('b=hw-5', collectWorkers('a=hw-3,hw-4', undefined));
    expect(pools).toEqual([
      { name: 'a', hostIds: ['hw-3', 'hw-4'] },
      { name: 'b', hostIds: ['hw-5'] },
    ]);
    expect(() => collectWorkers('a=hw-9', pools)).toThrow(/given twice/);
    expect(() => parseWorkerPool('hw-3,hw-4')).toThrow(/<pool>=<id,id,...>/);
    expect(() => parseWorkerPool('Pool=hw-3')).toThrow(/pool name "Pool"/);
    expect(() => parseWorkerPool('p=')).toThrow(/one or more host ids/);
  });

  it('parses comma-separated host ids', () => {
    expect(parseIdList('hw-1,hw-2,,hw-3 ')).toEqual(['hw-1', 'hw-2', 'hw-3']);
    expect(() => parseIdList('hw-1,hw-1')).toThrow(/listed twice/);
    expect(() => parseIdList('HW_1')).toThrow(/host id "HW_1"/);
  });

  it('parses profile name@version', () => {
    expect(parseProfileRef('edge-k3s@1.2.0')).toEqual({ name: 'edge-k3s', version: '1.2.0' });
    expect(parseProfileRef('edge@1.0.0-rc.1')).toEqual({ name: 'edge', version: '1.0.0-rc.1' });
    expect(() => parseProfileRef('edge-k3s')).toThrow(/<name>@<version>/);
    expect(() => parseProfileRef('edge-k3s@')).toThrow(/<name>@<version>/);
    expect(() => parseProfileRef('@1.0.0')).toThrow(/<name>@<version>/);
    expect(() => parseProfileRef('edge@1.2')).toThrow(/profile version "1.2"/);
    expect(() => parseProfileRef('Edge@1.2.0')).toThrow(/profile name "Edge"/);
  });

  it('parses bounded whole numbers', () => {
    const p = parsePositiveInt(100);
    expect(p('25')).toBe(25);
    for (const bad of ['0', '101', '2.5', 'ten', '-1']) expect(() => p(bad)).toThrow(/from 1 to 100/);
  });

  it('parses --since as ISO time, date or duration back from now', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    expect(parseSince('6h', now)).toBe('2026-03-01T06:00:00.000Z');
    expect(parseSince('7d', now)).toBe('2026-02-22T12:00:00.000Z');
    expect(parseSince('2026-02-01T08:00:00+01:00', now)).toBe('2026-02-01T07:00:00.000Z');
    expect(parseSince('2026-02-01', now)).toBe('2026-02-01T00:00:00.000Z');
    expect(() => parseSince('yesterday', now)).toThrow(/ISO time/);
    expect(() => parseSince('2026-02-01T08:00:00', now)).toThrow(/ISO time/);
  });

  it('parses --expires-at as future time or duration ahead', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    expect(parseExpiry('30d', now)).toBe('2026-03-31T12:00:00.000Z');
    expect(parseExpiry('2026-04-01T00:00:00Z', now)).toBe('2026-04-01T00:00:00.000Z');
    expect(() => parseExpiry('2026-01-01T00:00:00Z', now)).toThrow(/in the past/);
  });
});
