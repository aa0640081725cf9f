import { expireOverdueCommands, type DeviceDeps } from '../../use-cases/device-messages.js';
import { getLogger } from '../observability.js';
import { awsDeviceDeps } from '../iot/wiring.js';

/** Scheduled (every minute on AWS, a timer locally): commands past their deadline end as timed out. */
export const makeHandler = (deps: () => DeviceDeps) => async (): Promise<{ timedOut: string[] }> => {
  const out = await expireOverdueCommands(deps());
  if (out.timedOut.length > 0) getLogger().warn('commands timed out: their hosts did not finish them before the deadline', { count: out.timedOut.length, commands: out.timedOut.slice(0, 50) });
  return out;
};

export const handler = makeHandler(awsDeviceDeps);
