/**
 * Resolves the intrinsics of a synthesized template (Ref, Fn::GetAtt, Fn::Join, Fn::Select,
 * Fn::Split, Fn::Sub without variables map) to concrete strings for one account and region,
 * naming every resource after its logical id (or its explicit name property), as CloudFormation
 * would name it up to the random suffix. Only what IAM policies and environments use.
 */
export interface Environment {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };

export class TemplateResolver {
  constructor(private readonly template: Template, private readonly env: Environment) {}

  private resource(id: string) {
    const r = this.template.Resources[id];
    if (!r) throw new Error(`template has no resource ${id}`);
    return r;
  }

  /** Physical name: the explicit name property, else the logical id. */
  nameOf(id: string): string {
    const r = this.resource(id);
    const p = r.Properties ?? {};
    const explicit = p.TableName ?? p.FunctionName ?? p.LogGroupName ?? p.StateMachineName ?? p.QueueName ?? p.RoleName ?? p.PolicyName ?? p.RuleName ?? p.Name;
    return typeof explicit === 'string' ? explicit : (explicit === undefined ? id : this.resolve(explicit));
  }

  private arn(service: string, resource: string, regional = true): string {
    const { partition, region, account } = this.env;
    return `arn:${partition}:${service}:${regional ? region : ''}:${account}:${resource}`;
  }

  ref(id: string): string {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': this.env.account, 'AWS::Region': this.env.region, 'AWS::Partition': this.env.partition,
      'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': 'EdgeFleet', 'AWS::NoValue': '',
    };
    if (id in pseudo) return pseudo[id]!;
    const r = this.resource(id);
    const name = this.nameOf(id);
    switch (r.Type) {
      case 'AWS::StepFunctions::StateMachine': return this.arn('states', `stateMachine:${name}`);
      case 'AWS::SQS::Queue': return `https://sqs.${this.env.region}.amazonaws.com/${this.env.account}/${name}`;
      default: return name;
    }
  }

  getAtt(id: string, attr: string): string {
    const r = this.resource(id);
    const name = this.nameOf(id);
    const key = `${r.Type}.${attr}`;
    switch (key) {
      case 'AWS::DynamoDB::Table.Arn':
      case 'AWS::DynamoDB::GlobalTable.Arn': return this.arn('dynamodb', `table/${name}`);
      case 'AWS::Logs::LogGroup.Arn': return this.arn('logs', `log-group:${name}:*`);
      case 'AWS::Lambda::Function.Arn': return this.arn('lambda', `function:${name}`);
      case 'AWS::SQS::Queue.Arn': return this.arn('sqs', name);
      case 'AWS::SQS::Queue.QueueName': return name;
      case 'AWS::IAM::Role.Arn': return this.arn('iam', `role/${name}`, false);
      case 'AWS::IoT::Policy.Arn': return this.arn('iot', `policy/${name}`);
      case 'AWS::IoT::TopicRule.Arn': return this.arn('iot', `rule/${name}`);
      case 'AWS::Events::Rule.Arn': return this.arn('events', `rule/${name}`);
      // A key's id is a UUID KMS makes; the logical id stands for it.
      case 'AWS::KMS::Key.Arn': return this.arn('kms', `key/${name}`);
      case 'AWS::S3::Bucket.Arn': return `arn:${this.env.partition}:s3:::${name}`;
      case 'AWS::StepFunctions::StateMachine.Name': return name;
      case 'AWS::StepFunctions::StateMachine.Arn': return this.arn('states', `stateMachine:${name}`);
      default: return `${id}.${attr}`;
    }
  }

  resolve(value: unknown): any {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const v = o[k];
      if (k === 'Ref') return this.ref(String(v));
      if (k === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(v) ? v as [string, string] : String(v).split('.') as [string, string];
        return this.getAtt(id, attr);
      }
      if (k === 'Fn::Join') {
        const [sep, parts] = v as [string, unknown[]];
        return (this.resolve(parts) as unknown[]).join(sep);
      }
      if (k === 'Fn::Select') {
        const [i, list] = v as [number, unknown];
        return (this.resolve(list) as unknown[])[Number(this.resolve(i))];
      }
      if (k === 'Fn::Split') {
        const [sep, s] = v as [string, unknown];
        return String(this.resolve(s)).split(sep);
      }
      if (k === 'Fn::Sub' && typeof v === 'string') {
        return v.replace(/\$\{([^}!]+)\}/g, (_m, name: string) =>
          name.includes('.') ? this.getAtt(name.split('.')[0]!, name.split('.').slice(1).join('.')) : this.ref(name));
      }
    }
    return Object.fromEntries(keys.map((k) => [k, this.resolve(o[k])]));
  }
}
