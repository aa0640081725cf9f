import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type DocClient = DynamoDBDocumentClient;

/** The one way to build a DynamoDB document client (AWS default chain, or a local endpoint). */
export function makeDocClient(config: DynamoDBClientConfig = {}, instrument: (c: DynamoDBClient) => DynamoDBClient = (c) => c): DocClient {
  return DynamoDBDocumentClient.from(instrument(new DynamoDBClient({ maxAttempts: 5, ...config })), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** Attributes that exist only for keys and indexes; stripped when items become records. */
const INTERNAL = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'gsi4pk', 'gsi4sk', 'expiresAtEpoch', 'kind']);

export function toRecord<T>(item: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!INTERNAL.has(k)) out[k] = v;
  return out as T;
}
