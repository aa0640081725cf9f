import { Duration, Stack } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { IntegrationPattern, JsonPath, TaskInput, Timeout } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Template } from 'aws-cdk-lib/assertions';
import { DefinitionBody, Pass, QueryLanguage, StateMachine, Succeed } from 'aws-cdk-lib/aws-stepfunctions';
import { findUnsupportedAslFeatures, scanTemplateAsl } from '../../lib/asl-guard.js';
import { synthStack, testApp } from './helpers.js';

const machine = (states: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ StartAt: Object.keys(states)[0], States: states, ...extra });

describe('findUnsupportedAslFeatures', () => {
  it.each([
    ['plain JSONPath Task/Pass/Choice', machine({
      A: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', Parameters: { 'token.$': '$$.Task.Token' }, TimeoutSeconds: 60, Next: 'B' },
      B: { Type: 'Choice', Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'C' }], Default: 'C' },
      C: { Type: 'Pass', Result: { note: 'Assign in a value is fine', q: 'QueryLanguage' }, End: true },
    }, { QueryLanguage: 'JSONPath' }), []],
    ['top-level JSONata', machine({ A: { Type: 'Pass', End: true } }, { QueryLanguage: 'JSONata' }),
      [{ feature: 'JSONata', path: 'QueryLanguage' }]],
    ['state-level JSONata', machine({ A: { Type: 'Pass', QueryLanguage: 'JSONata', End: true } }),
      [{ feature: 'JSONata', path: 'States.A.QueryLanguage' }]],
    ['a {% %} expression', machine({ A: { Type: 'Pass', Output: '{% $states.input.x %}', End: true } }),
      [{ feature: 'JSONata', path: 'States.A ({% … %} expression)' }]],
    ['Assign on a state', machine({ A: { Type: 'Pass', Assign: { x: 1 }, End: true } }),
      [{ feature: 'Assign', path: 'States.A.Assign' }]],
    ['Assign in a Catch', machine({
      A: { Type: 'Task', Resource: 'arn:aws:lambda:x', Catch: [{ ErrorEquals: ['States.ALL'], Assign: { e: 1 }, Next: 'B' }], End: true },
      B: { Type: 'Fail' },
    }), [{ feature: 'Assign', path: 'States.A.Catch[0].Assign' }]],
    ['HeartbeatSeconds', machine({ A: { Type: 'Task', Resource: 'arn:aws:lambda:x', HeartbeatSeconds: 30, End: true } }),
      [{ feature: 'HeartbeatSeconds', path: 'States.A.HeartbeatSeconds' }]],
    ['Assign inside a Map item processor', machine({
      M: { Type: 'Map', ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', Assign: { v: 1 }, End: true } } }, End: true },
    }), [{ feature: 'Assign', path: 'States.M.ItemProcessor.States.I.Assign' }]],
    ['JSONata inside a Parallel branch', machine({
      P: { Type: 'Parallel', Branches: [
        { StartAt: 'X', States: { X: { Type: 'Pass', End: true } } },
        { StartAt: 'Y', States: { Y: { Type: 'Pass', QueryLanguage: 'JSONata', End: true } } },
      ], End: true },
    }), [{ feature: 'JSONata', path: 'States.P.Branches[1].States.Y.QueryLanguage' }]],
  ])('%s', (_name, asl, findings) => {
    expect(findUnsupportedAslFeatures(asl)).toEqual(findings);
  });

  it('rejects something that is not ASL', () => {
    expect(() => findUnsupportedAslFeatures('{"Comment":"no states"}')).toThrow(/not an ASL definition/);
    expect(() => findUnsupportedAslFeatures('not json')).toThrow();
  });
});

describe('scanTemplateAsl over synthesized templates', () => {
  it('scans every state machine of the EdgeFleet stack and finds nothing unsupported', () => {
    const { template } = synthStack();
    const machines = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'));
    const scan = scanTemplateAsl(template.toJSON());
    expect(scan.scanned).toEqual(machines); // every one of them, however many there are
    expect(scan.findings).toEqual([]);
  });

  it('sees through Fn::Join definitions: flags a JSONata machine, passes a JSONPath one', () => {
    const stack = new Stack(testApp(), 'Sfn');
    const fn = new LambdaFunction(stack, 'Fn', { runtime: Runtime.NODEJS_22_X, handler: 'index.handler', code: Code.fromInline('exports.handler=async()=>1') });
    const task = new LambdaInvoke(stack, 'Notify', {
      lambdaFunction: fn,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({ token: JsonPath.taskToken }),
      taskTimeout: Timeout.duration(Duration.minutes(5)),
    });
    new StateMachine(stack, 'Good', { definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'P1').next(task).next(new Succeed(stack, 'S1'))) });
    new StateMachine(stack, 'Bad', {
      queryLanguage: QueryLanguage.JSONATA,
      definitionBody: DefinitionBody.fromChainable(Pass.jsonata(stack, 'P2', { outputs: '{% $states.input %}' })),
    });
    const template = Template.fromStack(stack);
    const goodId = stack.getLogicalId(stack.node.findChild('Good').node.defaultChild as never);
    const badId = stack.getLogicalId(stack.node.findChild('Bad').node.defaultChild as never);
    expect(template.toJSON().Resources[goodId].Properties.DefinitionString['Fn::Join']).toBeDefined();
    const scan = scanTemplateAsl(template.toJSON());
    expect([...scan.scanned].sort()).toEqual([goodId, badId].sort());
    expect(scan.findings.map((f) => f.stateMachine)).not.toContain(goodId);
    expect(scan.findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ stateMachine: badId, feature: 'JSONata', path: 'QueryLanguage' }),
    ]));
  });
});
