/**
 * The IoT side in one definition: topic rules (CDK CfnTopicRule SQL and the local router are
 * both generated from IOT_RULES) and the per-thing device policy (CDK CfnPolicy and the local
 * broker's authorizer both read devicePolicyDocument).
 */
export type IotRuleName = 'status' | 'results' | 'pending-commands' | 'presence';

export interface IotRule {
  readonly name: IotRuleName;
  /** MQTT topic filter the rule selects from. */
  readonly topicFilter: string;
  /** 1-based topic segment holding the host id (the SQL's `topic(n)`), exposed as `hostId`. */
  readonly hostIdSegment: number;
  /** Handler module (exports `handler`), relative to the repository root. */
  readonly entry: string;
  /** The handler publishes commands (needs iot:Publish on device command topics). */
  readonly publishesCommands?: boolean;
}

export const IOT_RULES: readonly IotRule[] = [
  { name: 'status', topicFilter: 'edgefleet/hosts/+/status', hostIdSegment: 3, entry: 'lambdas/handlers/iot/status.ts' },
  { name: 'results', topicFilter: 'edgefleet/hosts/+/results', hostIdSegment: 3, entry: 'lambdas/handlers/iot/results.ts' },
  { name: 'pending-commands', topicFilter: 'edgefleet/hosts/+/commands/pending', hostIdSegment: 3, entry: 'lambdas/handlers/iot/pending-commands.ts', publishesCommands: true },
  { name: 'presence', topicFilter: '$aws/events/presence/+/+', hostIdSegment: 5, entry: 'lambdas/handlers/iot/presence.ts' },
];

/** IoT SQL for a rule: the whole payload plus the host id and the broker's receive time. */
export const ruleSql = (r: IotRule): string =>
  `SELECT *, topic(${r.hostIdSegment}) AS hostId, timestamp() AS receivedAt FROM '${r.topicFilter}'`;

const THING = '${iot:Connection.Thing.ThingName}';

/**
 * Per-thing policy: a device connects only as its own thing (and only while its certificate is
 * attached to it), and touches only edgefleet/hosts/<itself>/... and its own Secure Tunneling
 * notify topic (`$aws/things/<itself>/tunnels/notify`, receive only).
 */
export function devicePolicyDocument(partition = 'aws', region = '*', account = '*'): Record<string, unknown> {
  const arn = (kind: string, rest: string) => `arn:${partition}:iot:${region}:${account}:${kind}/${rest}`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', THING),
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
      {
        Effect: 'Allow', Action: 'iot:Publish',
        Resource: ['status', 'results', 'commands/pending'].map((t) => arn('topic', `edgefleet/hosts/${THING}/${t}`)),
      },
      // Its commands, and the Secure Tunneling notification IoT Core sends its own thing when a tunnel opens.
      {
        Effect: 'Allow', Action: 'iot:Subscribe',
        Resource: [arn('topicfilter', `edgefleet/hosts/${THING}/commands`), arn('topicfilter', `$aws/things/${THING}/tunnels/notify`)],
      },
      {
        Effect: 'Allow', Action: 'iot:Receive',
        Resource: [arn('topic', `edgefleet/hosts/${THING}/commands`), arn('topic', `$aws/things/${THING}/tunnels/notify`)],
      },
    ],
  };
}
