import { statusMessage } from '../../contracts/mqtt.js';
import { recordStatus, type DeviceDeps } from '../../use-cases/device-messages.js';
import { createIotHandler, lazyIotHandler } from './framework.js';
import { awsDeviceDeps } from './wiring.js';

/** Rule `status` (edgefleet/hosts/+/status): store the report when it changed or a full refresh is due. */
export const makeHandler = (deps: () => DeviceDeps) => createIotHandler('status', statusMessage, async (hostId, msg, d) => {
  const decision = await recordStatus(d, hostId, msg);
  return `${decision.store ? 'stored' : 'skipped'}:${decision.reason}`;
}, deps);

export const handler = lazyIotHandler(() => makeHandler(awsDeviceDeps));
