import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Annotations, CfnOutput, DefaultStackSynthesizer, Duration, Size, Stack, Token } from 'aws-cdk-lib';
import { HttpMethod, HttpNoneAuthorizer, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { AGENT_KEY_PREFIX, AGENT_MANIFEST_KEY, AGENT_ROUTE_KEYS, agentManifest, type AgentManifest } from '../../lambdas/contracts/agent-artifacts.js';
import { HANDLER_ENV } from '../api-routes.js';
import { acknowledgeNag } from '../nag.js';
import { EdgeFunction, type LogLevel } from './edge-function.js';

export interface AgentArtifactsProps {
  /** The API the device-facing GET /v1/agent/… routes are added to (no JWT). */
  readonly httpApi: HttpApi;
  /**
   * The output directory of `npm run device:build` (manifest.json, the executables, the
   * systemd unit) to publish; relative paths are from the working directory of `cdk`.
   * @default - nothing is published: the agent routes answer 503 and the user-data defaults to `baked`
   */
  readonly artifactsDir?: string;
  readonly logRetention?: RetentionDays;
  readonly logLevel?: LogLevel;
}

/**
 * The agent's signed artifacts on AWS:
 * - a private S3 bucket (no public access, TLS only, SSE-S3, owner-enforced, versioned) holding
 *   `agent/manifest.json` and the files it lists, deployed from `artifactsDir` when given;
 * - a KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY) that signs the manifest: its private half
 *   never leaves KMS; the public half goes into every user-data rendered with `download`;
 * - the `agent` function behind GET /v1/agent/{manifest, manifest.sig, public-key.pem,
 *   artifacts/{file}}: reads the manifest, signs it (KMS Sign, cached per manifest) and answers
 *   an artifact with a 302 to a presigned S3 GET (5 minutes).
 * The key and bucket exist with or without a published build, so the public key a host was
 * installed with stays the deployment's across redeploys.
 */
export class AgentArtifacts extends Construct {
  public readonly bucket: Bucket;
  public readonly signingKey: Key;
  public readonly function: EdgeFunction;
  /** The published build's manifest; undefined when nothing is published. */
  public readonly manifest?: AgentManifest;
  public readonly deployment?: BucketDeployment;

  constructor(scope: Construct, id: string, props: AgentArtifactsProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [{ id: 'expire-replaced-builds', noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    (this.bucket.node.defaultChild as CfnBucket).overrideLogicalId('AgentArtifactsBucket');
    acknowledgeNag(this.bucket, 'AwsSolutions-S1',
      'The bucket holds only the published agent build (no secret); every device read goes through the agent function, whose API access log records it; server access logs would need a second bucket.');

    this.signingKey = new Key(this, 'SigningKey', {
      description: 'EdgeFleet: signs the agent manifest (hosts verify it with openssl before installing the agent)',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
    });

    this.function = new EdgeFunction(this, 'Handler', {
      entry: 'lambdas/handlers/http/agent.ts',
      serviceName: 'edgefleet-api-agent',
      description: 'EdgeFleet HTTP API: the agent manifest, its signature, the public key, artifact downloads (presigned S3)',
      memoryMb: 256,
      timeoutSeconds: 10,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      environment: { [HANDLER_ENV.agentArtifactsBucket]: this.bucket.bucketName },
    });
    // Reads the manifest and presigns artifact GETs: s3:GetObject under the agent prefix, nothing else.
    this.function.function.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${AGENT_KEY_PREFIX}*`)] }));
    acknowledgeNag(this.function.role, `AwsSolutions-IAM5[Resource::<AgentArtifactsBucket.Arn>/${AGENT_KEY_PREFIX}*]`,
      'The artifacts are agent/manifest.json and the files it lists, which change with each build; the wildcard is the key below the agent prefix of this one bucket.');
    this.grantKey(this.function, ['kms:Sign', 'kms:GetPublicKey']);

    const artifactsDir = props.artifactsDir;
    if (artifactsDir) {
      const dir = path.resolve(artifactsDir);
      this.manifest = readBuild(dir);
      this.deployment = new BucketDeployment(this, 'Publish', {
        sources: [Source.asset(dir, { exclude: ['*', '!manifest.json', ...this.manifest.artifacts.map((a) => `!${a.file}`)] })],
        destinationBucket: this.bucket,
        destinationKeyPrefix: AGENT_KEY_PREFIX,
        prune: true,
        // The executables are ~100 MiB each: the zip and its extraction need room in /tmp.
        memoryLimit: 1024,
        ephemeralStorageSize: Size.gibibytes(4),
      });
      this.function.function.addEnvironment(HANDLER_ENV.agentPublished, 'true');
      // Serve the new build only once it is in the bucket.
      this.function.function.node.addDependency(this.deployment);
      acknowledgeDeploymentProvider(this.deployment);
      new CfnOutput(Stack.of(this), 'AgentPublishedVersion', { value: this.manifest.version, description: 'Agent version published by this deployment (agent/manifest.json)' });
    } else {
      Annotations.of(this).addInfo('No agent build is published (no edgefleet:agentArtifacts context or agentArtifactsDir prop): GET /v1/agent/… answers 503 and '
        + 'POST /v1/user-data defaults to agentInstall "baked". To publish: npm run device:build, then cdk deploy -c edgefleet:agentArtifacts=dist/device.');
    }
    this.function.function.addEnvironment(HANDLER_ENV.agentSigningKeyArn, this.signingKey.keyArn);

    const integration = new HttpLambdaIntegration('AgentIntegration', this.function.function);
    const none = new HttpNoneAuthorizer();
    for (const key of AGENT_ROUTE_KEYS) {
      const [created] = props.httpApi.addRoutes({ path: key.slice('GET '.length), methods: [HttpMethod.GET], integration, authorizer: none });
      acknowledgeNag(created!, 'AwsSolutions-APIG4', `${key} is public by design: a host fetches the agent before it has registered; it checks the manifest's signature `
        + 'with the key from its install configuration and every file\'s SHA-256 before anything runs, and nothing served is secret.');
    }
    new CfnOutput(Stack.of(this), 'AgentArtifactsBucketName', { value: this.bucket.bucketName, description: 'Agent artifacts (agent/manifest.json and the files it lists)' });
    new CfnOutput(Stack.of(this), 'AgentSigningKeyArn', { value: this.signingKey.keyArn, description: 'KMS key that signs the agent manifest (GET /v1/agent/public-key.pem is its public half)' });
  }

  /** True when this deployment publishes a build (download is then the user-data's default). */
  get published(): boolean {
    return this.manifest !== undefined;
  }

  /**
   * Lets `fn` read the signing key's public half (the user-data carries it) and tells it
   * whether a build is published (the user-data's default install mode).
   */
  grantPublicKey(fn: EdgeFunction): void {
    this.grantKey(fn, ['kms:GetPublicKey']);
    fn.function.addEnvironment(HANDLER_ENV.agentSigningKeyArn, this.signingKey.keyArn);
    if (this.published) fn.function.addEnvironment(HANDLER_ENV.agentPublished, 'true');
  }

  /**
   * Lets `fn` read the published manifest, `agent/manifest.json` and no other key (no write, no
   * listing, no artifact): an agent update checks the requested version against it. Without a
   * build the read finds nothing and the update answers 503 agent-artifacts-missing, as before.
   */
  grantManifestRead(fn: EdgeFunction): void {
    fn.function.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(AGENT_MANIFEST_KEY)] }));
    fn.function.addEnvironment(HANDLER_ENV.agentManifestBucket, this.bucket.bucketName);
  }

  private grantKey(fn: EdgeFunction, actions: readonly string[]): void {
    fn.function.addToRolePolicy(new PolicyStatement({ actions: [...actions], resources: [this.signingKey.keyArn] }));
  }
}

/**
 * cdk-nag findings on CDK's BucketDeployment provider (a singleton function at stack level that
 * runs once per deploy): its basic execution role, the object wildcards of a sync with prune
 * from the CDK asset bucket into this bucket, and its runtime, chosen by aws-cdk-lib.
 */
function acknowledgeDeploymentProvider(deployment: BucketDeployment): void {
  const role = deployment.handlerRole;
  const stack = Stack.of(deployment);
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const assets = `arn:<AWS::Partition>:s3:::cdk-${DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-${account}-${region}/*`;
  acknowledgeNag(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'CDK\'s BucketDeployment provider (runs once per deploy to copy the agent build into the bucket) writes its logs with the basic execution role.');
  const why = 'CDK\'s BucketDeployment provider copies the agent build from the CDK asset bucket and syncs it (with prune) into this bucket: its grants are object wildcards on those two buckets.';
  for (const finding of ['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:DeleteObject*', 'Action::s3:Abort*',
    `Resource::${assets}`, 'Resource::<AgentArtifactsBucket.Arn>/*']) {
    acknowledgeNag(role, `AwsSolutions-IAM5[${finding}]`, why);
  }
  if (role.node.scope) acknowledgeNag(role.node.scope, 'AwsSolutions-L1', 'The runtime of CDK\'s BucketDeployment provider is chosen by aws-cdk-lib.');
}

/**
 * The build to publish, checked at synth: a manifest the devices accept, and every file it
 * lists present with its size and SHA-256 (a mismatch would only show on a host, as a refused install).
 */
export function readBuild(dir: string): AgentManifest {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) throw new Error(`AgentArtifacts: ${file} does not exist: run npm run device:build (it writes dist/device), or drop the agentArtifacts setting to publish nothing`);
  let json: unknown;
  try { json = JSON.parse(readFileSync(file, 'utf8')); } catch { json = undefined; }
  const parsed = agentManifest.safeParse(json);
  if (!parsed.success) throw new Error(`AgentArtifacts: ${file} is not an agent manifest (${parsed.error.issues[0]?.message ?? 'not JSON'}): run npm run device:build again`);
  for (const a of parsed.data.artifacts) {
    const p = path.join(dir, a.file);
    if (!existsSync(p)) throw new Error(`AgentArtifacts: ${p} is listed in ${file} but missing: run npm run device:build again`);
    const size = statSync(p).size;
    const sha = createHash('sha256').update(readFileSync(p)).digest('hex');
    if (size !== a.size || sha !== a.sha256) {
      throw new Error(`AgentArtifacts: ${p} does not match ${file} (size ${size}, sha256 ${sha}; the manifest says ${a.size}, ${a.sha256}): hosts would refuse it; run npm run device:build again`);
    }
  }
  return parsed.data;
}
