import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TURN_KEPT_SECONDS } from '../../domain/admission.js';
import type { RegistrationTurn, RegistrationTurns } from '../../ports/device-registry.js';
import type { DocClient } from './client.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { keys } from './keys.js';

/**
 * The admission clock is one item: `at` (epoch ms, the next free turn) and `n` (turns taken).
 * DynamoDB has no max() in an update, so taking a turn is two conditional steps: restart the
 * clock at now if it has fallen behind, else move it one step and take the instant it was at.
 * Each step is atomic, so no two requests get the same turn and the clock never moves back.
 */
export class DynamoRegistrationTurns implements RegistrationTurns {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async heldBy(hostId: string): Promise<RegistrationTurn | undefined> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.admissionTurn(hostId), ConsistentRead: true }));
      const turnMs = out.Item?.['turnMs'];
      return typeof turnMs === 'number' ? { turnMs, used: out.Item?.['used'] === true } : undefined;
    } catch (e) {
      return mapDynamoError(e, `reading host ${hostId}'s registration turn`);
    }
  }

  async take(nowMs: number, spacingMs: number): Promise<number> {
    const what = 'taking a registration turn';
    const names = { '#at': 'at', '#n': 'n' };
    let turnMs: number;
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table, Key: keys.admissionClock,
        UpdateExpression: 'SET #at = :next, kind = :kind ADD #n :one',
        ConditionExpression: 'attribute_not_exists(#at) OR #at < :now',
        ExpressionAttributeNames: names, ExpressionAttributeValues: { ':next': nowMs + spacingMs, ':now': nowMs, ':one': 1, ':kind': 'admission-clock' },
      }));
      turnMs = nowMs;
    } catch (e) {
      if (!isConditionFailure(e)) return mapDynamoError(e, what);
      try {
        const out = await this.db.send(new UpdateCommand({
          TableName: this.table, Key: keys.admissionClock, UpdateExpression: 'ADD #at :step, #n :one',
          ExpressionAttributeNames: names, ExpressionAttributeValues: { ':step': spacingMs, ':one': 1 }, ReturnValues: 'UPDATED_NEW',
        }));
        const at = out.Attributes?.['at'];
        if (typeof at !== 'number') throw new Error(`the admission clock has no instant after ${what}`);
        turnMs = at - spacingMs;
      } catch (e2) {
        return mapDynamoError(e2, what);
      }
    }
    return turnMs;
  }

  async use(hostId: string): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table, Key: keys.admissionTurn(hostId), UpdateExpression: 'SET used = :true',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(used)', ExpressionAttributeValues: { ':true': true },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      return mapDynamoError(e, `using host ${hostId}'s registration turn`);
    }
  }

  /** Kept a while past its instant (DynamoDB Local never expires it; `usableTurn` ignores a stale one). */
  async keep(hostId: string, turnMs: number): Promise<void> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: { ...keys.admissionTurn(hostId), kind: 'admission-turn', turnMs, expiresAtEpoch: Math.ceil(turnMs / 1000) + TURN_KEPT_SECONDS },
      }));
    } catch (e) {
      mapDynamoError(e, `keeping host ${hostId}'s registration turn`);
    }
  }
}
