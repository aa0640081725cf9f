import { statusMessage } from '../../contracts/mqtt.js';
import { recordStatus, type DeviceDeps } from '../../use-cases/device-messages.js';
import { lazy } from '../kit.js';
import { awsDeviceDeps, createIotHandler } from './framework.js';

/** Rule `status` (edgefleet/hosts/+/status): store the report when it changed or a full refresh is due. */
export const makeHandler = (deps: () => DeviceDeps) => createIotHandler('status', statusMessage, async (hostId, msg, d) => {
  const decision = await recordStatus(d, hostId, msg);
  return `${decision.store ? 'stored' : 'skipped'}:${decision.reason}`;
}, deps);

export const handler = lazy(() => makeHandler(awsDeviceDeps));
