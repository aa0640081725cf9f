import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { TUNNEL_SERVICE } from '../../lambdas/contracts/tunnels.js';
import { deployArn, wildcardFinding } from '../arns.js';
import { acknowledgeNag } from '../nag.js';
import type { EdgeFunction } from './edge-function.js';

/**
 * Lets `fn` open, close and describe AWS IoT Secure Tunneling tunnels (service authorization
 * reference, "Actions defined by AWS IoT": OpenTunnel has no resource type, only condition keys,
 * among them `iot:TunnelDestinationService`; CloseTunnel and DescribeTunnel act on `tunnel`).
 * Opening is allowed only for tunnels whose destination services are the SSH service.
 */
export function grantSecureTunneling(fn: EdgeFunction): void {
  const tunnels = { service: 'iot', resource: 'tunnel', resourceName: '*' };
  fn.function.addToRolePolicy(new PolicyStatement({
    actions: ['iot:OpenTunnel'], resources: ['*'],
    conditions: { 'ForAllValues:StringEquals': { 'iot:TunnelDestinationService': [TUNNEL_SERVICE] } },
  }));
  fn.function.addToRolePolicy(new PolicyStatement({ actions: ['iot:CloseTunnel', 'iot:DescribeTunnel'], resources: [deployArn(tunnels)] }));
  acknowledgeNag(fn.role, wildcardFinding(tunnels),
    'Tunnel ids are chosen by AWS IoT Secure Tunneling when OpenTunnel runs, so the tunnel resource cannot be named in advance.');
  acknowledgeNag(fn.role, 'AwsSolutions-IAM5[Resource::*]',
    'iot:OpenTunnel supports no resource-level permissions (IAM requires "*"); it is limited to the SSH destination service by the iot:TunnelDestinationService condition. The other "*" is iot:DescribeEndpoint and X-Ray, which have no resources either.');
}
