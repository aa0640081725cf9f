/**
 * Turns the synthesized table resources into DynamoDB CreateTable inputs, so the local runtime
 * creates exactly the tables the stack deploys. Pure: no CDK import, no I/O.
 */
import type {
  AttributeDefinition, CreateTableCommandInput, GlobalSecondaryIndex, KeySchemaElement, Projection,
} from '@aws-sdk/client-dynamodb';

/** `aws:cdk:path` suffixes of the table resources (construct ids `Data`/`StateTable`/`AuditTable`). */
export const TABLE_PATH_SUFFIX = {
  state: '/Data/StateTable/Resource',
  audit: '/Data/AuditTable/Resource',
} as const;

const TABLE_TYPES = new Set(['AWS::DynamoDB::GlobalTable', 'AWS::DynamoDB::Table']);

export interface TablesFromTemplateOptions {
  /**
   * Physical names are left to CloudFormation, so local tables get `<prefix>-state` and
   * `<prefix>-audit`, unless the template sets a literal `TableName`.
   * @default 'edgefleet'
   */
  readonly tableNamePrefix?: string;
}

export interface TemplateTables {
  readonly state: CreateTableCommandInput;
  readonly audit: CreateTableCommandInput;
}

/**
 * Finds the state and audit tables in a synthesized template (by their `aws:cdk:path`
 * metadata, which the CDK CLI and `synthesizeTemplate` both emit) and returns CreateTable
 * inputs: TableName, KeySchema, AttributeDefinitions, GlobalSecondaryIndexes (with Projection)
 * and BillingMode PAY_PER_REQUEST. Throws if a table is missing, ambiguous, or not literal.
 */
export function tablesFromTemplate(template: any, options: TablesFromTemplateOptions = {}): TemplateTables {
  const prefix = options.tableNamePrefix ?? 'edgefleet';
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(prefix)) throw new Error(`tablesFromTemplate: bad tableNamePrefix '${prefix}'`);
  const resources: Record<string, any> = template?.Resources;
  if (!resources || typeof resources !== 'object') throw new Error('tablesFromTemplate: template has no Resources');
  return {
    state: toCreateTable(findTable(resources, TABLE_PATH_SUFFIX.state), `${prefix}-state`),
    audit: toCreateTable(findTable(resources, TABLE_PATH_SUFFIX.audit), `${prefix}-audit`),
  };
}

interface FoundTable {
  readonly logicalId: string;
  readonly properties: Record<string, any>;
}

function findTable(resources: Record<string, any>, pathSuffix: string): FoundTable {
  const matches = Object.entries(resources).filter(([, r]) =>
    TABLE_TYPES.has(r?.Type) && typeof r?.Metadata?.['aws:cdk:path'] === 'string'
      && r.Metadata['aws:cdk:path'].endsWith(pathSuffix));
  if (matches.length === 0) {
    throw new Error(`tablesFromTemplate: no DynamoDB table whose aws:cdk:path ends with ${pathSuffix} ` +
      "(synthesize with path metadata on: the CDK CLI default, or context 'aws:cdk:enable-path-metadata': true)");
  }
  if (matches.length > 1) {
    throw new Error(`tablesFromTemplate: ${matches.length} tables match ${pathSuffix}: ${matches.map(([id]) => id).join(', ')}`);
  }
  const [logicalId, resource] = matches[0]!;
  return { logicalId, properties: resource.Properties ?? {} };
}

function toCreateTable({ logicalId, properties: p }: FoundTable, defaultName: string): CreateTableCommandInput {
  const where = `tablesFromTemplate: ${logicalId}`;
  if (p.TableName !== undefined && typeof p.TableName !== 'string') {
    throw new Error(`${where}: TableName is not a literal string`);
  }
  const input: CreateTableCommandInput = {
    TableName: p.TableName ?? defaultName,
    KeySchema: keySchema(p.KeySchema, where),
    AttributeDefinitions: attributeDefinitions(p.AttributeDefinitions, where),
    BillingMode: 'PAY_PER_REQUEST',
  };
  const gsis: unknown = p.GlobalSecondaryIndexes;
  if (gsis !== undefined) {
    if (!Array.isArray(gsis)) throw new Error(`${where}: GlobalSecondaryIndexes is not a list`);
    if (gsis.length > 0) {
      input.GlobalSecondaryIndexes = gsis.map((g: any): GlobalSecondaryIndex => ({
        IndexName: literal(g?.IndexName, `${where}: IndexName`),
        KeySchema: keySchema(g?.KeySchema, `${where} index ${String(g?.IndexName)}`),
        Projection: projection(g?.Projection),
      }));
    }
  }
  return input;
}

function literal(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new Error(`${what} is not a literal string`);
  return v;
}

function keySchema(ks: unknown, where: string): KeySchemaElement[] {
  if (!Array.isArray(ks) || ks.length === 0) throw new Error(`${where}: KeySchema missing`);
  return ks.map((k: any) => {
    const keyType = literal(k?.KeyType, `${where}: KeyType`);
    if (keyType !== 'HASH' && keyType !== 'RANGE') throw new Error(`${where}: unknown KeyType ${keyType}`);
    return { AttributeName: literal(k?.AttributeName, `${where}: AttributeName`), KeyType: keyType };
  });
}

function attributeDefinitions(defs: unknown, where: string): AttributeDefinition[] {
  if (!Array.isArray(defs) || defs.length === 0) throw new Error(`${where}: AttributeDefinitions missing`);
  return defs.map((d: any) => {
    const type = literal(d?.AttributeType, `${where}: AttributeType`);
    if (type !== 'S' && type !== 'N' && type !== 'B') throw new Error(`${where}: unknown AttributeType ${type}`);
    return { AttributeName: literal(d?.AttributeName, `${where}: AttributeName`), AttributeType: type };
  });
}

function projection(p: any): Projection {
  const type = p?.ProjectionType ?? 'ALL';
  if (type !== 'ALL' && type !== 'KEYS_ONLY' && type !== 'INCLUDE') throw new Error(`unknown ProjectionType ${type}`);
  return Array.isArray(p?.NonKeyAttributes) && p.NonKeyAttributes.length > 0
    ? { ProjectionType: type, NonKeyAttributes: p.NonKeyAttributes.map(String) }
    : { ProjectionType: type };
}
