import { z } from 'zod';
import { hostId, hostUid, isoTime, siteName, tags } from './common.js';

/** Inventory the agent reports at registration (and in full status reports). */
export const inventory = z.strictObject({
  arch: z.enum(['amd64', 'arm64']),
  cpus: z.number().int().min(1).max(4096),
  memoryMb: z.number().int().min(1).max(16 * 1024 * 1024),
  disks: z.array(z.strictObject({ name: z.string().max(64), sizeGb: z.number().min(0).max(1_000_000) })).max(64),
  nics: z.array(z.strictObject({
    name: z.string().max(32), mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i),
    /** The interface's IP addresses (IPv4 and IPv6, no prefix length). */
    ips: z.array(z.union([z.ipv4(), z.ipv6()])).max(16).optional(),
  })).max(64),
  os: z.strictObject({ name: z.string().max(64), version: z.string().max(64) }),
  kairos: z.strictObject({ version: z.string().max(64), flavor: z.string().max(64) }).optional(),
  agentVersion: z.string().max(32),
});
export type Inventory = z.infer<typeof inventory>;

const pem = (label: string) => z.string().max(8192).regex(new RegExp(`^-----BEGIN ${label}-----\\r?\\n[A-Za-z0-9+/=\\r\\n]+-----END ${label}-----\\r?\\n?$`), `a PEM ${label}`);
export const csrPem = pem('CERTIFICATE REQUEST');
export const certificatePem = pem('CERTIFICATE');

/**
 * POST /v1/device/register (no JWT: the registration token authenticates). The first call
 * carries the CSR; while pending the agent calls again with the same body plus `proof`:
 * an ECDSA P-256 signature (base64, IEEE P1363) by the CSR's key over `${uid}|${at}`.
 */
export const deviceRegisterBody = z.strictObject({
  token: z.string().min(1).max(256),
  uid: hostUid,
  csr: csrPem,
  inventory,
  /** The site and tags from the host's install configuration (user-data); used for hosts the
   * control plane did not know in advance when the token names no site of its own. */
  site: siteName.optional(),
  tags: tags.optional(),
  proof: z.strictObject({ at: isoTime, signature: z.string().max(256) }).optional(),
});
export type DeviceRegisterBody = z.infer<typeof deviceRegisterBody>;

export const deviceRegisterApproved = z.object({
  status: z.literal('approved'),
  hostId,
  thingName: z.string(),
  certificatePem,
  caPem: z.string(),
  mqtt: z.object({ endpoint: z.string(), port: z.number().int() }),
});
export const deviceRegisterPending = z.object({
  status: z.literal('pending'),
  hostId,
  /** Shown on the console and in the QR code; an operator may need it to approve. */
  pairingCode: z.string(),
  pollAfterSeconds: z.number().int(),
});
export const deviceRegisterResponse = z.discriminatedUnion('status', [deviceRegisterApproved, deviceRegisterPending]);
export type DeviceRegisterResponse = z.infer<typeof deviceRegisterResponse>;
