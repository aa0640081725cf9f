import {
  hostProgressStatus, operationRecord, operationView, parseOperation, upgradeInputView, type HostProgressStatus, type Operation,
} from '../../../lambdas/contracts/operations.js';
import { workflowKind } from '../../../lambdas/contracts/workflows.js';
import type { HostProgress, OperationRecord, OperationType } from '../../../lambdas/domain/model.js';
import { WORKFLOW_KINDS } from '../../../lambdas/domain/workflow.js';

/**
 * The domain imports nothing outside itself, so `OperationRecord` (domain/model.ts) is written
 * out as TypeScript and the wire schema as zod. These compile-time checks keep them one type:
 * `npx tsc -p .` fails when a member, an input field or a host status differs.
 */
type DeepReadonly<T> = T extends readonly (infer E)[] ? readonly DeepReadonly<E>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
/** Equal up to `readonly` (the domain's records are read-only, parsed data is fresh). */
type Same<A, B> = [DeepReadonly<A>] extends [DeepReadonly<B>] ? ([DeepReadonly<B>] extends [DeepReadonly<A>] ? true : false) : false;
const sameOperation: Same<Operation, OperationRecord> = true;
const sameHostStatus: Same<HostProgressStatus, HostProgress['status']> = true;
type Member<K extends OperationType> = [Extract<Operation, { type: K }>, Extract<OperationRecord, { type: K }>];
const sameMembers: { [K in OperationType]: Same<Member<K>[0], Member<K>[1]> } = {
  'create-cluster': true, 'scale-out': true, 'scale-in': true, reconfigure: true, 'delete-cluster': true, 'upgrade-cluster': true, 'agent-update': true,
};

const T0 = '2026-11-24T10:00:00.000Z';
const base = { id: 'op-1', project: 'default', target: { type: 'cluster', id: 'c-1' }, status: 'running', step: 'begin', hosts: { 'hw-1': { status: 'sent', step: 'init', commandId: 'wf-1', at: T0 } }, startedAt: T0 };
const after = { controlPlane: { hostIds: ['hw-1'] }, workers: [{ name: 'pos', hostIds: ['hw-2'] }] };
const plan = {
  behaviour: 'repave', changes: [{ layer: 'os', change: 'image', behaviour: 'repave', reason: 'new image' }],
  controlPlane: [{ hostId: 'hw-1', role: 'control-plane', pool: 'control-plane', behaviour: 'repave', steps: [{ step: 'upgrade', on: 'node' }] }],
  workers: [], maxUnavailable: 1, target: { image: 'quay.io/kairos/x:v3.5.0', kubeletVersion: 'v1.31.2' }, downtime: { expected: false }, skippedWorkers: false,
};
const upgradeInput = { to: { name: 'p', version: '1.1.0' }, from: { name: 'p', version: '1.0.0' }, onFailure: 'rollback', drainTimeoutSeconds: 600, plan };

describe('operation contract', () => {
  it('is one type with the domain model (checked at compile time)', () => {
    expect([sameOperation, sameHostStatus, ...Object.values(sameMembers)].every(Boolean)).toBe(true);
  });

  it('has one member per workflow kind, plus the per-host kinds that run no workflow (agent-update)', () => {
    const members = operationRecord.options.map((o) => o.shape.type.value).sort();
    expect(members).toEqual([...workflowKind.options, 'agent-update'].sort());
    expect(members).toEqual([...WORKFLOW_KINDS, 'agent-update'].sort());
  });

  it.each<[string, Record<string, unknown>]>([
    ['create-cluster (no input)', { type: 'create-cluster' }],
    ['scale-out', { type: 'scale-out', input: { pool: 'pos', add: ['hw-2'], after } }],
    ['scale-in', { type: 'scale-in', input: { pool: 'pos', remove: ['hw-2'], after } }],
    ['reconfigure', { type: 'reconfigure', input: { profile: { name: 'p', version: '1.1.0' }, behaviour: 'reload', changes: [] } }],
    ['delete-cluster', { type: 'delete-cluster' }],
    ['upgrade-cluster', { type: 'upgrade-cluster', input: upgradeInput }],
    ['a rollback upgrade in a window', { type: 'upgrade-cluster', input: { ...upgradeInput, onFailure: 'none', rollbackOf: 'op-0', notBefore: T0, window: { start: T0, end: T0 } } }],
  ])('parses a stored %s unchanged', (_name, kind) => {
    const stored = { ...base, ...kind };
    expect(parseOperation(stored)).toEqual(stored);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown kind', { ...base, type: 'cluster.create' }, /type/],
    ['a scale-out without its hosts', { ...base, type: 'scale-out', input: { pool: 'pos', after } }, /input\.add/],
    ['an upgrade without a plan', { ...base, type: 'upgrade-cluster', input: { ...upgradeInput, plan: undefined } }, /input\.plan/],
    ['an upgrade with an unknown failure policy', { ...base, type: 'upgrade-cluster', input: { ...upgradeInput, onFailure: 'explode' } }, /input\.onFailure/],
    ['a host status that does not exist', { ...base, type: 'create-cluster', hosts: { 'hw-1': { status: 'exploded' } } }, /hosts\.hw-1\.status/],
  ])('refuses %s, naming the field', (_name, stored, field) => {
    expect(() => parseOperation(stored)).toThrow(field);
  });

  it('drops fields it does not know (internal table attributes never leak into a record)', () => {
    expect(parseOperation({ ...base, type: 'delete-cluster', gsi1pk: 'x' })).not.toHaveProperty('gsi1pk');
  });

  it('lists every host status the workflows write', () => {
    for (const s of ['pending', 'queued', 'sent', 'accepted', 'progress', 'succeeded', 'failed', 'timed-out', 'superseded']) {
      expect(hostProgressStatus.safeParse(s).success).toBe(true);
    }
  });
});

describe('display views (tolerant: a part that does not fit is left out, the rest still shows)', () => {
  it('reads an upgrade input whole', () => {
    expect(upgradeInputView.parse({ ...upgradeInput, rolledBackBy: 'op-2' })).toMatchObject({
      from: { name: 'p', version: '1.0.0' }, to: { name: 'p', version: '1.1.0' }, onFailure: 'rollback', rolledBackBy: 'op-2',
      plan: { behaviour: 'repave', maxUnavailable: 1, downtime: { expected: false }, skippedWorkers: false },
    });
  });

  it.each<[string, unknown, Record<string, unknown>]>([
    ['no input at all', undefined, {}],
    ['a plan that is not an object', { plan: 'garbage', to: { version: '2.0.0' } }, { to: { version: '2.0.0' } }],
    ['a ref given as an object id', { rollbackOf: { upgradeId: 'op-0' } }, { rollbackOf: 'op-0' }],
    ['skipped workers listed by id', { plan: { skippedWorkers: ['w-7'] } }, { plan: expect.objectContaining({ skippedWorkers: ['w-7'] }) }],
    ['a malformed change', { plan: { changes: [42] } }, { plan: expect.objectContaining({ changes: [{ layer: '', change: '', behaviour: '' }] }) }],
  ])('reads %s', (_name, input, expected) => {
    expect(upgradeInputView.parse(input)).toMatchObject(expected);
  });

  it('accepts any kind and host status in the operation envelope (an older or newer server)', () => {
    expect(operationView.safeParse({ ...base, type: 'future-kind', hosts: { h: { status: 'teleporting' } } }).success).toBe(true);
  });
});
