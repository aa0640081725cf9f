import { redact, REDACTED } from '../../../device/diagnostics/redact.js';

/** Every secret kind a host may print, as it appears in real output, and what must stay. */
const K3S_TOKEN = `K10${'a1'.repeat(32)}::server:9f8e7d6c5b4a39281706f5e4d3c2b1a0`;
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----';
const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlLWJ5dGVz';

const CASES: readonly { name: string; input: string; secret: string; keeps?: string }[] = [
  { name: 'k3s join token in a log line', input: `level=info msg="joining with token ${K3S_TOKEN}"`, secret: '9f8e7d6c5b4a39281706f5e4d3c2b1a0', keeps: 'joining with token' },
  { name: 'k3s token as a flag', input: `ExecStart=/usr/local/bin/k3s agent --token=${K3S_TOKEN} --server https://10.0.0.1:6443`, secret: K3S_TOKEN, keeps: '--server https://10.0.0.1:6443' },
  { name: 'flag with a space', input: 'kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:1234', secret: 'abcdef.0123456789abcdef', keeps: '--discovery-token-ca-cert-hash' },
  { name: 'cloud-config cluster_token', input: 'cluster:\n  cluster_token: s3cr3t-join-value\n  role: init\n', secret: 's3cr3t-join-value', keeps: 'role: init' },
  { name: 'registration token in JSON', input: '{"apiUrl":"https://api","registrationToken":"eftok_abcdefghijklmnop","uid":"x"}', secret: 'eftok_abcdefghijklmnop', keeps: '"uid":"x"' },
  { name: 'PEM private key block', input: `key follows\n${PEM}\nafter`, secret: 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', keeps: 'after' },
  { name: 'PKCS#8 and EC keys', input: '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB0gTqY9dWm2\n-----END EC PRIVATE KEY-----', secret: 'MHcCAQEEIB0gTqY9dWm2' },
  { name: 'kubeconfig client-key-data', input: 'users:\n- name: default\n  user:\n    client-certificate-data: LS0tLS1CRUdJTiBDRVJU\n    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t\n', secret: 'LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t', keeps: 'client-certificate-data: LS0tLS1CRUdJTiBDRVJU' },
  { name: 'kubeconfig token', input: 'users:\n- name: sa\n  user:\n    token: sha256~hGjV6dVkd0Q2oPp5\n', secret: 'sha256~hGjV6dVkd0Q2oPp5' },
  { name: 'password in YAML', input: 'registries:\n  configs:\n    r.example.com:\n      auth:\n        username: shop\n        password: "hunter2!"\n', secret: 'hunter2!', keeps: 'username: shop' },
  { name: 'secret value in env', input: 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nREGION=eu-west-1', secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', keeps: 'REGION=eu-west-1' },
  { name: 'client_secret in JSON', input: '{"client_secret": "0a1b2c3d4e5f"}', secret: '0a1b2c3d4e5f' },
  { name: 'bearer token in a request log', input: 'GET /v1/hosts Authorization: Bearer abcDEF123456789.xyz', secret: 'abcDEF123456789.xyz', keeps: 'GET /v1/hosts' },
  { name: 'JWT anywhere', input: `sa token ${JWT} used`, secret: JWT },
  { name: 'AWS access key id', input: 'using credentials AKIAIOSFODNN7EXAMPLE from env', secret: 'AKIAIOSFODNN7EXAMPLE', keeps: 'from env' },
  { name: 'presigned URL signature', input: 'POST https://b.s3.amazonaws.com/x?X-Amz-Credential=ASIA/x&X-Amz-Signature=deadbeefcafe', secret: 'deadbeefcafe' },
  { name: 'password in a URL', input: 'proxy http://shop:p4ssw0rd@proxy.local:3128', secret: 'p4ssw0rd', keeps: 'proxy.local:3128' },
  { name: 'block scalar under a token key', input: 'token: |\n  line-one-secret\n  line-two-secret\nnext: value\n', secret: 'line-one-secret', keeps: 'next: value' },
];

describe('redact', () => {
  it.each(CASES)('$name: the secret is gone, the rest stays', ({ input, secret, keeps }) => {
    const out = redact(input);
    expect(out.text).not.toContain(secret);
    expect(out.text).toContain(REDACTED);
    expect(out.count).toBeGreaterThan(0);
    if (keeps) expect(out.text).toContain(keeps);
  });

  it.each([
    'Nov 30 12:00:00 host k3s[1]: Node sim-1 is Ready',
    'token: \npassword:',
    'Filesystem 1024-blocks Used Available Capacity Mounted on',
    'tokenizer started; passwords are not logged',
    'inet 10.1.2.3/8 scope global eth0',
  ])('leaves ordinary output alone: %s', (input) => {
    expect(redact(input)).toEqual({ text: input, count: 0, rules: [] });
  });

  it('is idempotent: redacting twice changes nothing more', () => {
    const once = redact(CASES.map((c) => c.input).join('\n')).text;
    expect(redact(once).text).toBe(once);
  });
});
