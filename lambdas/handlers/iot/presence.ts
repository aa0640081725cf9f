import { presenceEvent } from '../../contracts/mqtt.js';
import { recordPresence, type DeviceDeps } from '../../use-cases/device-messages.js';
import { lazy } from '../kit.js';
import { awsDeviceDeps, createIotHandler } from './framework.js';

/**
 * Rule `presence` ($aws/events/presence/+/+): online/offline with the timestamp guard. The
 * lifecycle event carries more fields than EdgeFleet uses (ipAddress, principalIdentifier…),
 * so the schema is not strict; the client id must be the topic's host id.
 */
export const makeHandler = (deps: () => DeviceDeps) => createIotHandler('presence', presenceEvent, async (hostId, msg, d) => {
  if (msg.clientId !== hostId) return 'ignored:client-id-mismatch';
  const wrote = await recordPresence(d, hostId, {
    eventType: msg.eventType, at: msg.timestamp, ...(msg.sessionIdentifier !== undefined ? { sessionIdentifier: msg.sessionIdentifier } : {}),
  });
  return wrote ? `stored:${msg.eventType}` : 'skipped:stale';
}, deps);

export const handler = lazy(() => makeHandler(awsDeviceDeps));
