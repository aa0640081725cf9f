import { GetObjectCommand, NoSuchKey, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AgentArtifactLocation, AgentArtifactStore } from '../../ports/agent-artifacts.js';

/** Presigned artifact URLs last this long: enough for curl to start (S3 checks the expiry when a request starts, not while it streams). */
export const ARTIFACT_URL_SECONDS = 300;

/**
 * The published agent in its S3 bucket (private, owner-enforced, TLS only): `<prefix>manifest.json`
 * is read whole (a few KiB), and every artifact is answered with a presigned GET — API Gateway
 * and Lambda cannot carry a 100 MiB executable, S3 can. Presigning is offline (no request) and
 * the URL carries this function's s3:GetObject on the prefix, nothing else.
 */
export class S3AgentArtifactStore implements AgentArtifactStore {
  readonly where: string;

  constructor(private readonly s3: S3Client, private readonly bucket: string, private readonly prefix: string) {
    this.where = `s3://${bucket}/${prefix}`;
  }

  async manifest(): Promise<Uint8Array | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}manifest.json` }));
      return out.Body ? await out.Body.transformToByteArray() : undefined;
    } catch (e) {
      // Without s3:ListBucket a missing key reads as AccessDenied: both mean "nothing published here".
      if (e instanceof NoSuchKey || (e instanceof S3ServiceException && (e.name === 'NoSuchKey' || e.name === 'AccessDenied'))) return undefined;
      throw e;
    }
  }

  async artifact(file: string): Promise<AgentArtifactLocation> {
    const url = await getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${file}` }), { expiresIn: ARTIFACT_URL_SECONDS });
    return { kind: 'redirect', url };
  }
}
