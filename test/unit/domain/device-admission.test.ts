import { admitDeviceMessage } from '../../../lambdas/domain/device-admission.js';
import type { HostStatus } from '../../../lambdas/domain/host-lifecycle.js';

describe('admitDeviceMessage', () => {
  const rules = ['status', 'results', 'pending-commands', 'presence'];
  it.each<[HostStatus | undefined, boolean, string | undefined]>([
    [undefined, false, 'unknown-host'],
    ['pre-registered', false, 'host-pre-registered'],
    ['pending', true, undefined],
    ['approved', true, undefined],
    ['in-cluster', true, undefined],
    ['rejected', false, 'host-rejected'],
    ['decommissioned', false, 'host-decommissioned'],
  ])('host %s: admitted %s', (status, admit, reason) => {
    for (const rule of rules) {
      const a = admitDeviceMessage(status ? { status } : undefined, rule, 'connected');
      expect(a).toEqual(admit ? { admit: true } : { admit: false, reason });
    }
  });

  it.each<[HostStatus | undefined, string, boolean]>([
    ['decommissioned', 'disconnected', true],
    ['rejected', 'disconnected', true],
    ['decommissioned', 'connected', false],
    [undefined, 'disconnected', false],
  ])('presence of a %s host, %s: admitted %s (a disconnect only marks it offline)', (status, eventType, admit) => {
    expect(admitDeviceMessage(status ? { status } : undefined, 'presence', eventType).admit).toBe(admit);
    expect(admitDeviceMessage(status ? { status } : undefined, 'status', eventType).admit).toBe(false);
  });
});
