import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableV2, type GlobalSecondaryIndexPropsV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { AUDIT_TABLE, STATE_TABLE } from '../../lambdas/contracts/tables.js';

/** Construct ids the local runtime relies on (`…/Data/StateTable/Resource`); do not rename. */
export const STATE_TABLE_ID = 'StateTable';
export const AUDIT_TABLE_ID = 'AuditTable';

export interface DataTablesProps {
  /**
   * What CloudFormation does with the tables when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * DynamoDB deletion protection on both tables.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Point-in-time recovery window, in days (1–35). PITR is always on.
   * @default 35
   */
  readonly pointInTimeRecoveryDays?: number;
}

interface IndexSpec {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** ALL unless said (`KEYS_ONLY`: only the table and index keys are copied). */
  readonly projection?: 'KEYS_ONLY';
}

/** The key layout of one table, as declared once in `lambdas/contracts/tables.ts`. */
interface TableSpec {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly ttlAttribute: string;
  readonly indexes: readonly IndexSpec[];
}

const STATE_SPEC: TableSpec = {
  partitionKey: STATE_TABLE.partitionKey,
  sortKey: STATE_TABLE.sortKey,
  ttlAttribute: STATE_TABLE.ttlAttribute,
  indexes: [STATE_TABLE.byProject, STATE_TABLE.bySecondary, STATE_TABLE.byCluster, STATE_TABLE.openByDeadline],
};

const AUDIT_SPEC: TableSpec = {
  partitionKey: AUDIT_TABLE.partitionKey,
  sortKey: AUDIT_TABLE.sortKey,
  ttlAttribute: AUDIT_TABLE.ttlAttribute,
  indexes: [AUDIT_TABLE.byActor, AUDIT_TABLE.byDay],
};

/**
 * The two DynamoDB tables: `StateTable` (hosts, tokens, profiles, clusters, operations, commands)
 * and `AuditTable` (append-only audit events). On-demand, PITR, deletion protection, retained.
 * Every key attribute is a String; key and index names come from `lambdas/contracts/tables.ts`.
 */
export class DataTables extends Construct {
  public readonly stateTable: TableV2;
  public readonly auditTable: TableV2;

  constructor(scope: Construct, id: string, props: DataTablesProps = {}) {
    super(scope, id);
    const days = props.pointInTimeRecoveryDays ?? 35;
    if (!Number.isInteger(days) || days < 1 || days > 35) {
      throw new Error(`DataTables: pointInTimeRecoveryDays must be an integer from 1 to 35, got ${days}`);
    }
    const common = {
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      deletionProtection: props.deletionProtection ?? true,
      recoveryPeriodInDays: days,
    };
    this.stateTable = this.table(STATE_TABLE_ID, STATE_SPEC, common);
    this.auditTable = this.table(AUDIT_TABLE_ID, AUDIT_SPEC, common);
  }

  private table(
    id: string,
    spec: TableSpec,
    opts: { removalPolicy: RemovalPolicy; deletionProtection: boolean; recoveryPeriodInDays: number },
  ): TableV2 {
    const str = (name: string) => ({ name, type: AttributeType.STRING });
    const globalSecondaryIndexes: GlobalSecondaryIndexPropsV2[] = spec.indexes.map((ix) => ({
      indexName: ix.name,
      partitionKey: str(ix.partitionKey),
      sortKey: str(ix.sortKey),
      // ProjectionType.ALL is the TableV2 default; the template states it explicitly.
      ...(ix.projection === 'KEYS_ONLY' ? { projectionType: ProjectionType.KEYS_ONLY } : {}),
    }));
    return new TableV2(this, id, {
      partitionKey: str(spec.partitionKey),
      sortKey: str(spec.sortKey),
      billing: Billing.onDemand(),
      timeToLiveAttribute: spec.ttlAttribute,
      globalSecondaryIndexes,
      pointInTimeRecoverySpecification: {
        pointInTimeRecoveryEnabled: true,
        recoveryPeriodInDays: opts.recoveryPeriodInDays,
      },
      deletionProtection: opts.deletionProtection,
      removalPolicy: opts.removalPolicy,
    });
  }
}
