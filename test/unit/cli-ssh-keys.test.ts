import { execFileSync } from 'node:child_process';
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
});
