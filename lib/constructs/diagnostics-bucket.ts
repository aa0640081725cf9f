import { Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { HANDLER_ENV } from '../api-routes.js';
import { acknowledgeNag } from '../nag.js';
import type { EdgeFunction } from './edge-function.js';

export interface DiagnosticsBucketProps {
  /**
   * Days a bundle is kept (hosts' logs and state, redacted); then S3 deletes it.
   * @default 7
   */
  readonly expirationDays?: number;
}

/** Every bundle key starts with this (lambdas/domain/diagnostics.ts BUNDLE_PREFIX). */
export const BUNDLE_PREFIX = 'diagnostics/';

/**
 * The diagnostics bundles' bucket: encrypted (SSE-S3), TLS only, no public access of any kind,
 * owner-enforced objects (no ACLs), no versioning (a bundle is written once), and a lifecycle
 * rule that deletes bundles after `expirationDays`. Hosts upload with a presigned POST and
 * operators download with a presigned GET, both signed by the diagnostics API function: it is
 * the only principal granted anything here, and only on the bundle prefix.
 */
export class DiagnosticsBucket extends Construct {
  public readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: DiagnosticsBucketProps = {}) {
    super(scope, id);
    const days = props.expirationDays ?? 7;
    if (!Number.isInteger(days) || days < 1 || days > 365) throw new Error(`DiagnosticsBucket: expirationDays must be a whole number from 1 to 365, got ${days}`);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [{ id: 'expire-bundles', expiration: Duration.days(days), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    // A fixed logical id: the IAM5 acknowledgement below names the bucket's ARN through it.
    (this.bucket.node.defaultChild as CfnBucket).overrideLogicalId('DiagnosticsBundlesBucket');
    acknowledgeNag(this.bucket, 'AwsSolutions-S1',
      'Every access to a bundle is already recorded: each presigned upload and download is issued by the API and audited (host.diagnostics.request / host.diagnostics.download), and bundles expire after days; server access logs would need a second bucket that outlives them.');
  }

  /**
   * Lets `fn` presign bundle uploads (s3:PutObject) and/or downloads (s3:GetObject) under the
   * bundle prefix; a presigned URL carries exactly these permissions of the signer's role.
   */
  grantPresign(fn: EdgeFunction, actions: readonly ('s3:PutObject' | 's3:GetObject')[] = ['s3:PutObject', 's3:GetObject']): void {
    fn.function.addToRolePolicy(new PolicyStatement({ actions: [...actions], resources: [this.bucket.arnForObjects(`${BUNDLE_PREFIX}*`)] }));
    fn.function.addEnvironment(HANDLER_ENV.diagnosticsBucket, this.bucket.bucketName);
    acknowledgeNag(fn.role, `AwsSolutions-IAM5[Resource::<DiagnosticsBundlesBucket.Arn>/${BUNDLE_PREFIX}*]`,
      'Bundle keys are diagnostics/<project>/<host>/<id>.tar.gz, made per request; the wildcard is the key below the bundle prefix of this one bucket.');
  }
}
