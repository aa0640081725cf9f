import { createServer, type Server } from 'node:net';
import { canListen, ephemeralLow, stablePort } from '../../../local/stable-port.js';

const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});

const listen = (port: number) => new Promise<Server>((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(port, '127.0.0.1', () => { servers.push(s); resolve(s); });
});

describe('ephemeralLow', () => {
  it.each([
    ['32768\t60999\n', 32768],
    ['49152 65535', 49152],
    ['garbage', 32768],
    ['5000 6000', 32768], // below the lowest port chosen: not a range to stay under
    ['70000 80000', 32768],
  ])('reads %j as %i', (text, low) => {
    expect(ephemeralLow(() => text)).toBe(low);
  });

  it('falls back to 32768 where the file cannot be read (not Linux)', () => {
    expect(ephemeralLow(() => { throw new Error('ENOENT'); })).toBe(32768);
  });

  it("reads this machine's range", () => {
    const low = ephemeralLow();
    expect(low).toBeGreaterThan(10_000);
    expect(low).toBeLessThanOrEqual(65535);
  });
});

describe('stablePort', () => {
  it('chooses a port below the ephemeral range that can be listened on', async () => {
    const port = await stablePort();
    expect(port).toBeGreaterThanOrEqual(10_000);
    expect(port).toBeLessThan(ephemeralLow());
    expect(await canListen(port, '127.0.0.1')).toBe(true);
  });

  it('skips a port that is taken and keeps to its range', async () => {
    const taken = await stablePort({ from: 20_000, to: 21_000 });
    await listen(taken);
    expect(await canListen(taken, '127.0.0.1')).toBe(false);
    // The first candidate is the taken port, the next one the range's last.
    const candidates = [(taken - 20_000 + 0.5) / 1000, 0.9999];
    const port = await stablePort({ from: 20_000, to: 21_000, random: () => candidates.shift() ?? 0.5 });
    expect(port).toBe(20_999);
  });

  it('says so when every try found the port taken', async () => {
    const taken = await stablePort({ from: 21_000, to: 22_000 });
    await listen(taken);
    await expect(stablePort({ from: taken, to: taken + 1, attempts: 3 })).rejects.toThrow(`no free port found in [${taken}, ${taken + 1}) on 127.0.0.1 after 3 tries`);
  });

  it('refuses an empty or impossible range', async () => {
    await expect(stablePort({ from: 30_000, to: 30_000 })).rejects.toThrow('no port range to choose from: [30000, 30000)');
    await expect(stablePort({ from: 0, to: 10 })).rejects.toThrow('no port range');
  });
});
