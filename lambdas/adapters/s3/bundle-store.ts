import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BundleStore, PresignedUpload } from '../../ports/diagnostics.js';

/**
 * Bundles in the diagnostics bucket. The host uploads with a presigned POST whose policy fixes
 * the key and the content type, and bounds
 * the size with `content-length-range` (S3 refuses anything larger with EntityTooLarge); the
 * operator downloads with a presigned GET. Signing happens here, offline: no request goes to
 * S3, and the URLs carry this function's role (s3:PutObject / s3:GetObject on the prefix).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 */
export class S3BundleStore implements BundleStore {
  constructor(private readonly s3: S3Client, private readonly bucket: string, private readonly now: () => Date = () => new Date()) {}

  async presignUpload(key: string, o: { maxBytes: number; expiresAt: Date }): Promise<PresignedUpload> {
    const expires = Math.max(60, Math.round((o.expiresAt.getTime() - this.now().getTime()) / 1000));
    const post = await createPresignedPost(this.s3, {
      Bucket: this.bucket, Key: key, Expires: expires,
      Conditions: [['content-length-range', 1, o.maxBytes], ['eq', '$Content-Type', 'application/gzip']],
      Fields: { 'Content-Type': 'application/gzip' },
    });
    return { url: post.url, fields: post.fields };
  }

  async presignDownload(key: string, o: { expiresInSeconds: number; fileName: string }): Promise<{ url: string; expiresAt: string }> {
    const url = await getSignedUrl(this.s3, new GetObjectCommand({
      Bucket: this.bucket, Key: key, ResponseContentDisposition: `attachment; filename="${o.fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
    }), { expiresIn: o.expiresInSeconds });
    return { url, expiresAt: new Date(this.now().getTime() + o.expiresInSeconds * 1000).toISOString() };
  }
}
