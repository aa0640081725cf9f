import { z } from 'zod';

/** Text an operator typed: no control characters, bounded length. */
export const safeText = (max = 200) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'must not contain control or format characters');

/** DNS-label style names (profiles, clusters, pools). */
export const dnsName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and "-", starting and ending with a letter or digit');

export const projectName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and "-"');

export const siteName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit');

export const tagKey = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'letters, digits, ".", "_", "/" and "-"');
export const tagValue = z
  .string()
  .max(63)
  .regex(/^[A-Za-z0-9._ /-]*$/, 'letters, digits, space, ".", "_", "/" and "-"');
export const tags = z
  .record(tagKey, tagValue)
  .refine((t) => Object.keys(t).length <= 20, 'at most 20 tags');

/** Hardware id as the device reports it: printable ASCII, no spaces. */
export const hostUid = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/** Host id: the sanitized uid; also the IoT thing name. */
export const hostId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and "-"');

export const semver = z
  .string()
  .max(64)
  .regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'semantic version such as 1.2.0');

export const isoTime = z.iso.datetime({ offset: true });

export const resourceVersion = z.number().int().min(1);

export const listQuery = z.strictObject({
  cursor: z.string().max(4096).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().optional() });

/** RFC 9457 problem details, with a stable `code`. */
export const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string(),
  instance: z.string().optional(),
  requestId: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problem>;
