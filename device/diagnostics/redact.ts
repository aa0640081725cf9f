/**
 * Redaction of collected output before it leaves the host: whatever a journal, a config file
 * or kubectl printed, these never reach the bundle. Pure; table-tested
 * (test/unit/device/diagnostics-redact.test.ts). Over-redacting is acceptable; leaking is not.
 */

export const REDACTED = '[REDACTED]';

interface Rule {
  readonly name: string;
  readonly pattern: RegExp;
  readonly replace: (match: string, ...groups: string[]) => string;
}

/** Key names whose value is a secret (YAML `key: v`, JSON `"key": "v"`, env `KEY=v`, flags `--key v`). */
const SECRET_KEY = String.raw`[A-Za-z0-9_.-]*(?:token|password|passwd|passphrase|secret|client-key-data|private[_-]?key|api[_-]?key|access[_-]?key|credentials?)[A-Za-z0-9_.-]*`;

const RULES: readonly Rule[] = [
  {
    // PEM private keys of any kind (RSA, EC, OPENSSH, ENCRYPTED, PKCS#8), the whole block.
    name: 'private-key',
    pattern: /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    replace: (_m, kind) => `-----BEGIN ${kind}-----\n${REDACTED}\n-----END ${kind}-----`,
  },
  {
    // k3s / rke2 join tokens: K10<sha256 of the CA>::<user>:<password>, or the short server token after ::.
    name: 'k3s-token',
    pattern: /\bK10[0-9a-f]{64}::[^\s"',]+/g,
    replace: () => REDACTED,
  },
  {
    // kubeadm bootstrap tokens: [a-z0-9]{6}.[a-z0-9]{16}.
    name: 'kubeadm-token',
    pattern: /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g,
    replace: () => REDACTED,
  },
  {
    name: 'bearer',
    pattern: /\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
    replace: (_m, scheme, space) => `${scheme}${space}${REDACTED}`,
  },
  {
    // JSON Web Tokens (service-account tokens, OIDC access tokens).
    name: 'jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
    replace: () => REDACTED,
  },
  {
    // AWS access key ids (long-term AKIA, temporary ASIA).
    name: 'aws-access-key-id',
    pattern: /\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b/g,
    replace: () => REDACTED,
  },
  {
    // Presigned URL signatures and session tokens in query strings.
    name: 'url-signature',
    pattern: /([?&](?:X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential|Signature|sig|token)=)[^&\s"']+/gi,
    replace: (_m, key) => `${key}${REDACTED}`,
  },
  {
    // Credentials in URLs: scheme://user:password@host.
    name: 'url-password',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi,
    replace: (_m, head) => `${head}${REDACTED}@`,
  },
  {
    // --token=abc, --token abc, --etcd-password=x (command lines in journals).
    name: 'flag',
    pattern: new RegExp(String.raw`(--${SECRET_KEY})([= ])("[^"]*"|'[^']*'|[^\s"']+)`, 'gi'),
    replace: (m, flag, sep, value) => (value.startsWith('-') || value === REDACTED ? m : `${flag}${sep}${REDACTED}`),
  },
  {
    // key: value / "key": "value" / KEY=value (YAML, JSON, env files, logfmt).
    name: 'key-value',
    pattern: new RegExp(String.raw`((?:^|[\s{,;(])["']?${SECRET_KEY}["']?[ \t]*[:=][ \t]*)("[^"\n]*"|'[^'\n]*'|[^\s"',;}]+)`, 'gim'),
    replace: (m, head, value) => {
      const bare = value.replace(/^["']|["']$/g, '');
      if (!bare || bare === REDACTED || bare === '|' || bare === '>' || /^(true|false|null|~)$/i.test(bare)) return m;
      const quote = /^["']/.test(value) ? value[0]! : '';
      return `${head}${quote}${REDACTED}${quote}`;
    },
  },
  {
    // A YAML block scalar under a secret key (`token: |` then indented lines).
    name: 'block-scalar',
    pattern: new RegExp(String.raw`(^([ \t]*)["']?${SECRET_KEY}["']?[ \t]*:[ \t]*[|>][-+]?[ \t]*\n)((?:\2[ \t]+[^\n]*(?:\n|$))+)`, 'gim'),
    replace: (_m, head, indent) => `${head}${indent}  ${REDACTED}\n`,
  },
  {
    // AWS secret access keys next to their name in any spelling (aws_secret_access_key = …).
    name: 'aws-secret-key',
    pattern: /(aws.?secret.?access.?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}/gi,
    replace: (_m, head) => `${head}${REDACTED}`,
  },
];

export interface Redaction {
  readonly text: string;
  /** How many values were blanked out. */
  readonly count: number;
  /** Which rules fired (for the manifest). */
  readonly rules: readonly string[];
}

/** Blanks out every secret the rules know in `text`. */
export function redact(text: string): Redaction {
  let out = text;
  let count = 0;
  const fired = new Set<string>();
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (...args: unknown[]) => {
      const match = String(args[0]);
      const groups = args.slice(1).filter((a): a is string => typeof a === 'string');
      const replaced = rule.replace(match, ...groups);
      if (replaced !== match) {
        count += 1;
        fired.add(rule.name);
      }
      return replaced;
    });
  }
  return { text: out, count, rules: [...fired] };
}
