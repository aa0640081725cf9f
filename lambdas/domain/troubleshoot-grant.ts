/**
 * Troubleshoot grants: who may open a remote shell in a project, stored by the control plane so
 * that it can see a grant withdrawn (a JWT claim cannot be: it lives until the token expires).
 * Pure: the record, whether it holds now, and what the tunnel sweep does with an open tunnel.
 */
import type { TunnelCloseReason, TunnelRecord } from './tunnel.js';

export interface TroubleshootGrant {
  /** Opaque: the subject, base64url (one grant per subject and project). */
  readonly id: string;
  readonly project: string;
  /** The JWT subject (`sub`) it is granted to. */
  readonly subject: string;
  readonly createdAt: string;
  readonly createdBy: string;
  /** Absent: until revoked. */
  readonly expiresAt?: string;
}

/** A grant's id: its subject in base64url (opaque to callers, stable, no lookup table). */
export const grantIdFor = (subject: string): string => Buffer.from(subject, 'utf8').toString('base64url');

/** The subject a grant id names, or undefined when `id` cannot be one of ours. */
export function subjectOfGrantId(id: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,700}$/.test(id)) return undefined;
  const subject = Buffer.from(id, 'base64url').toString('utf8');
  return subject.length > 0 && grantIdFor(subject) === id ? subject : undefined;
}

/** Does the grant hold at `now`? (absent, or past its expiry: no; DynamoDB TTL is late.) */
export function grantActive(g: TroubleshootGrant | undefined, now: Date): boolean {
  return !!g && (g.expiresAt === undefined || Date.parse(g.expiresAt) > now.getTime());
}

/** What the Secure Tunneling service says of a tunnel (DescribeTunnel), undefined when it does not know it. */
export interface ServiceView {
  readonly status: 'OPEN' | 'CLOSED';
  readonly sourceConnected: boolean;
  readonly destinationConnected: boolean;
}

export type Side = 'source' | 'destination';
export interface ConnectionChange { readonly side: Side; readonly connected: boolean }

export interface SweepDecision {
  /** Close it, and why; undefined: it stays open. */
  readonly close?: TunnelCloseReason;
  /** Sides whose connection changed since the record last said (audited as connect/disconnect). */
  readonly changes: readonly ConnectionChange[];
}

/**
 * The tunnel sweep's decision for one tunnel not yet recorded closed, in order: past its expiry
 * → `expired`; its opener's grant revoked or expired → `revoked`; the service no longer has it
 * open → `expired` (its max lifetime ran out there); the host's side connected and then left
 * while the service still holds the tunnel open → `idle` when the host is online (the agent
 * leaves an open tunnel only when its idle limit passes; its single-use token cannot come back),
 * `failed` when the host went offline. Connection changes are reported whatever is decided.
 */
export function decideSweep(t: TunnelRecord, input: { now: Date; grant: boolean; hostOnline: boolean; service: ServiceView | undefined }): SweepDecision {
  const changes: ConnectionChange[] = [];
  const svc = input.service;
  if (svc) {
    if (!!t.sourceConnected !== svc.sourceConnected) changes.push({ side: 'source', connected: svc.sourceConnected });
    if (!!t.destinationConnected !== svc.destinationConnected) changes.push({ side: 'destination', connected: svc.destinationConnected });
  }
  if (t.state === 'closed') return { changes };
  if (Date.parse(t.expiresAt) <= input.now.getTime()) return { close: 'expired', changes };
  if (!input.grant) return { close: 'revoked', changes };
  if (t.state !== 'open') return { changes };
  if (!svc || svc.status === 'CLOSED') return { close: 'expired', changes };
  if (t.destinationConnected && !svc.destinationConnected) return { close: input.hostOnline ? 'idle' : 'failed', changes };
  return { changes };
}
