import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SnsPublisher } from '../../ports/alerts.js';

/** SNS Publish to the stack's alert topic (encrypted with KMS; subscribers get the JSON notification). */
export class AwsSnsPublisher implements SnsPublisher {
  constructor(private readonly client: SNSClient) {}

  async publish(topicArn: string, subject: string, message: string): Promise<void> {
    await this.client.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }));
  }
}
