import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSshKeyPair } from '../../cli/ssh-keys.js';
import { sshEd25519PublicKey } from '../../lambdas/contracts/tunnels.js';

describe('the one-time ssh key pair of `hosts shell`', () => {
  it('has a public key the API accepts, and a fresh pair each time', () => {
    const a = generateSshKeyPair('edgefleet-tunnel');
    const b = generateSshKeyPair('edgefleet-tunnel');
    expect(sshEd25519PublicKey.safeParse(a.publicKey).success).toBe(true);
    expect(a.publicKey).not.toBe(b.publicKey);
    expect(a.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
  });

  // OpenSSH itself reads the private key and derives the same public key from it.
  (existsSync('/usr/bin/ssh-keygen') ? it : it.skip)('ssh-keygen -y derives the same public key from the private key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ef-key-'));
    try {
      const k = generateSshKeyPair('edgefleet-tunnel');
      const file = join(dir, 'id');
      writeFileSync(file, k.privateKey, { mode: 0o600 });
      const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
      expect(derived.split(' ').slice(0, 2)).toEqual(k.publicKey.split(' ').slice(0, 2));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Node 20's JWK export of an Ed key could deadlock its own thread when a GC ran inside it (a
  // test run hung on it). A 1 MB young generation makes such GCs frequent: the old code hung
  // within a few hundred pairs here; this must make 2,000 pairs and exit.
  it('makes 2,000 pairs under constant GC without hanging', () => {
    const script = "const { generateSshKeyPair } = await import('./cli/ssh-keys.ts');"
      + " for (let i = 0; i < 2000; i++) generateSshKeyPair('x'); console.log('made 2000');";
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--max-semi-space-size=1', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '../..'), encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL',
    });
    expect({ signal: run.signal, status: run.status, stdout: run.stdout.trim(), stderr: run.stderr.trim() })
      .toEqual({ signal: null, status: 0, stdout: 'made 2000', stderr: '' });
  }, 70_000);
});
