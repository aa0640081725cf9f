import { classifyCommand } from '../../../device/classify-command.js';

const deadline = '2030-01-01T00:00:00.000Z';
const json = (o: unknown) => JSON.stringify(o);

describe('classifyCommand: the allow-list and validation of a delivered command', () => {
  it.each([
    ['an allow-listed command', json({ commandId: 'c-1', type: 'reboot', params: {}, deadline }), 'run'],
    ['report-state', json({ commandId: 'c_2', type: 'report-state', params: {}, deadline }), 'run'],
    ['a type outside the allow-list, with an id', json({ commandId: 'evil-1', type: 'exec', params: { argv: 'rm -rf /' }, deadline }), 'refuse'],
    ['a missing type, with an id', json({ commandId: 'c-3', params: {}, deadline }), 'refuse'],
    ['an allowed type without a deadline', json({ commandId: 'c-4', type: 'reboot', params: {} }), 'refuse'],
    ['a type outside the allow-list, without an id', json({ type: 'exec' }), 'drop'],
    ['a type outside the allow-list, with an unusable id', json({ commandId: 'has spaces', type: 'exec' }), 'drop'],
    ['an id longer than 64 characters', json({ commandId: 'a'.repeat(65), type: 'exec' }), 'drop'],
    ['an allowed type without an id', json({ type: 'reboot', params: {}, deadline }), 'drop'],
    ['not JSON', 'not json', 'drop'],
    ['JSON null', 'null', 'drop'],
    ['a JSON string', '"reboot"', 'drop'],
  ])('%s → %s', (_what, payload, action) => {
    expect(classifyCommand(payload).action).toBe(action);
  });

  it('names the refused type and the allowed ones', () => {
    expect(classifyCommand(json({ commandId: 'evil-1', type: 'exec', params: {}, deadline }))).toEqual({
      action: 'refuse', commandId: 'evil-1', detail: expect.stringMatching(/^command type "exec" is not allowed on this host \(allowed: .*upgrade.*reboot.*\)$/),
    });
  });

  it('names what is invalid', () => {
    expect(classifyCommand(json({ commandId: 'c-4', type: 'reboot', params: {} }))).toEqual({
      action: 'refuse', commandId: 'c-4', detail: expect.stringMatching(/^invalid command: deadline: /),
    });
  });

  it('hands over the parsed command to run', () => {
    expect(classifyCommand(json({ commandId: 'c-1', type: 'reboot', params: {}, deadline }))).toEqual({
      action: 'run', command: { commandId: 'c-1', type: 'reboot', params: {}, deadline },
    });
  });
});
