import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { MAX_DEVICE_PAYLOAD_BYTES } from '../../contracts/mqtt.js';
import type { IotRuleName } from '../../contracts/iot.js';
import type { DeviceDeps } from '../../use-cases/device-messages.js';
import { getLogger, getMetrics } from '../observability.js';
import { admitDeviceMessage } from '../../domain/device-admission.js';
import { awsRoot } from '../composition-root.js';
import { correlationIds, entryPoint } from '../kit.js';

/** What a topic rule delivers: the payload plus `hostId` (topic segment) and `receivedAt` (ms). */
export type IotEvent = Record<string, unknown> & { hostId?: unknown; receivedAt?: unknown };

export type IotOutcome =
  | { readonly outcome: 'accepted'; readonly detail?: string }
  | { readonly outcome: 'rejected'; readonly reason: string };

const HOST_ID = /^[A-Za-z0-9:_-]{1,128}$/;

/** Rejections are logged and counted (metric `IotMessageRejected`, dimension `rule`), never thrown. */
function reject(rule: IotRuleName, reason: string, hostId: unknown): IotOutcome {
  getLogger().warn('iot message rejected', { rule, reason, hostId: typeof hostId === 'string' ? hostId.slice(0, 128) : undefined });
  const metrics = getMetrics();
  metrics.addDimension('rule', rule);
  metrics.addMetric('IotMessageRejected', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return { outcome: 'rejected', reason };
}

/**
 * A well-formed message from a host that is not registered and active (unknown, rejected,
 * decommissioned): nothing is written; logged and counted (metric `IotMessageFromInactiveHost`).
 */
function dropInactive(rule: IotRuleName, reason: string, hostId: string): IotOutcome {
  getLogger().warn('iot message dropped: the sending host is not registered and active', {
    rule, hostId, reason,
    action: 'nothing was stored; if this host should be in the fleet, register it again (a new certificate); otherwise its session is closed and its certificate revoked',
  });
  const metrics = getMetrics();
  metrics.addDimension('rule', rule);
  metrics.addMetric('IotMessageFromInactiveHost', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return { outcome: 'rejected', reason };
}

function accepted(rule: IotRuleName, detail?: string): IotOutcome {
  const metrics = getMetrics();
  metrics.addDimension('rule', rule);
  metrics.addMetric('IotMessageAccepted', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return detail === undefined ? { outcome: 'accepted' } : { outcome: 'accepted', detail };
}

/**
 * An IoT rule target: checks the size and the schema (strict: unknown fields are refused),
 * then checks the sending host is registered and active, then calls one use case. Bad input is rejected and counted and writes nothing; failures of
 * the use case itself (e.g. the database) are thrown so IoT retries the asynchronous invoke.
 */
export function createIotHandler<S extends z.ZodType>(
  rule: IotRuleName, schema: S,
  run: (hostId: string, message: z.infer<S>, deps: DeviceDeps, event: IotEvent) => Promise<string | void>,
  deps: () => DeviceDeps,
): (event: unknown, context?: Context) => Promise<IotOutcome> {
  // The topic's host id (and the command id of a result) label every line of the invocation.
  return entryPoint<unknown, IotOutcome>({
    kind: 'iot', name: `edgefleet-iot-${rule}`, correlate: (event) => correlationIds(event, ['hostId', 'commandId']),
  }, async (event) => {
    if (event === null || typeof event !== 'object' || Array.isArray(event)) return reject(rule, 'not-a-json-object', undefined);
    const { hostId, receivedAt: _r, ...payload } = event as IotEvent;
    if (typeof hostId !== 'string' || !HOST_ID.test(hostId)) return reject(rule, 'bad-host-id', hostId);
    let size: number;
    try {
      size = Buffer.byteLength(JSON.stringify(payload), 'utf8');
    } catch {
      return reject(rule, 'not-serializable', hostId);
    }
    if (size > MAX_DEVICE_PAYLOAD_BYTES) return reject(rule, 'payload-too-large', hostId);
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      return reject(rule, `invalid: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`, hostId);
    }
    const d = deps();
    const eventType = payload.eventType;
    const admission = admitDeviceMessage(await d.hostLifecycle.lifecycle(hostId), rule, typeof eventType === 'string' ? eventType : undefined);
    if (!admission.admit) return dropInactive(rule, admission.reason, hostId);
    const detail = await run(hostId, parsed.data, d, event as IotEvent);
    return accepted(rule, detail ?? undefined);
  });
}

/** The AWS dependencies of a rule target, from the composition root (built at cold start). */
export const awsDeviceDeps = (): DeviceDeps => awsRoot(['stateTable']).device;
