import { cpuMsFromStat, processCpuMs } from '../../../bench/process-cpu.js';

describe('cpuMsFromStat', () => {
  const tail = (utime: number, stime: number) => `S 1 1 1 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 1 0 100 1000 10`;
  it.each([
    ['a plain name', `42 (java) ${tail(150, 50)}`, 100, 2000],
    ['a name with spaces and parentheses', `42 (a (b) c) ${tail(3, 1)}`, 100, 40],
    ['another tick rate', `42 (node) ${tail(250, 250)}`, 250, 2000],
    ['a truncated line', '42 (node) S 1 1', 100, undefined],
    ['not numbers', `42 (node) ${tail(150, 50).replace('150', 'x')}`, 100, undefined],
  ])('%s', (_, stat, ticks, ms) => {
    expect(cpuMsFromStat(stat, ticks)).toBe(ms);
  });
});

(process.platform === 'linux' ? describe : describe.skip)('processCpuMs', () => {
  it('reads this process as process.cpuUsage() does, to the kernel tick', () => {
    const until = Date.now() + 60;
    while (Date.now() < until) { /* burn CPU so there is something to read */ }
    const own = process.cpuUsage();
    const read = processCpuMs(process.pid);
    expect(read).toBeGreaterThan(0);
    expect(Math.abs(read! - (own.user + own.system) / 1000)).toBeLessThan(100);
  });
  it('a process that does not exist: undefined', () => {
    expect(processCpuMs(2 ** 22 + 7)).toBeUndefined();
    expect(processCpuMs(undefined)).toBeUndefined();
  });
});
