import { z } from 'zod';
import { isoTime, page } from './common.js';

/**
 * Troubleshoot grants (`/v1/troubleshoot-grants`): who may open a remote shell in a project.
 * Stored by the control plane so that revoking one closes the holder's open tunnels at once.
 */

/** A JWT subject (`sub`): printable, no spaces (Cognito uses a UUID; other issuers `auth0|…`, e-mails). */
export const grantSubject = z.string().min(1).max(256)
  .regex(/^[\x21-\x7e]+$/, 'a token subject (the `sub` claim: printable characters, no spaces)');

export const createGrantBody = z.strictObject({
  /** Who gets it: the subject (`sub`) of their tokens. */
  subject: grantSubject,
  /** When it lapses by itself (open tunnels of the holder close within a minute). Absent: until revoked. */
  expiresAt: isoTime.optional(),
});

export const troubleshootGrant = z.object({
  id: z.string(),
  project: z.string(),
  subject: z.string(),
  createdAt: isoTime,
  createdBy: z.string(),
  expiresAt: isoTime.optional(),
});

export const grantList = page(troubleshootGrant);

/** DELETE's answer: the grant removed and the tunnels that closed because of it. */
export const revokedGrant = troubleshootGrant.extend({ closedTunnels: z.array(z.string()) });
