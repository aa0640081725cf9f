import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { TUNNEL_SERVICE } from '../../lambdas/contracts/tunnels.js';
import { deployArn, wildcardFinding } from '../arns.js';
import { acknowledgeNag } from '../nag.js';
import type { EdgeFunction } from './edge-function.js';

/**
 * Lets `fn` open, close and describe AWS IoT Secure Tunneling tunnels (service authorization
 * reference, "Actions defined by AWS IoT": OpenTunnel on `tunnel` and `thing`, with the
 * `iot:TunnelDestinationService` condition key; CloseTunnel and DescribeTunnel on `tunnel`).
 * Opening is allowed only for tunnels whose destination services are exactly the SSH service.
 */
export function grantSecureTunneling(fn: EdgeFunction): void {
  const tunnels = { service: 'iot', resource: 'tunnel', resourceName: '*' };
  const things = { service: 'iot', resource: 'thing', resourceName: '*' };
  fn.function.addToRolePolicy(new PolicyStatement({
    actions: ['iot:OpenTunnel'], resources: [deployArn(tunnels), deployArn(things)],
    conditions: { 'ForAllValues:StringEquals': { 'iot:TunnelDestinationService': [TUNNEL_SERVICE] } },
  }));
  fn.function.addToRolePolicy(new PolicyStatement({ actions: ['iot:CloseTunnel', 'iot:DescribeTunnel'], resources: [deployArn(tunnels)] }));
  acknowledgeNag(fn.role, wildcardFinding(tunnels),
    'Tunnel ids are chosen by AWS IoT Secure Tunneling when OpenTunnel runs, so the tunnel resource cannot be named in advance; opening is limited to the SSH destination service by condition.');
  acknowledgeNag(fn.role, wildcardFinding(things),
    'A tunnel goes to whichever host (thing = host id) the operator names; OpenTunnel is limited to the SSH destination service by condition.');
}
