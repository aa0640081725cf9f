import { commandMessage, commandType, type CommandMessage } from '../lambdas/contracts/mqtt.js';

/** What the agent does with a message on its commands topic. */
export type Intake =
  | { readonly action: 'run'; readonly command: CommandMessage }
  /** Answered `failed` (and recorded: the same id never runs later). */
  | { readonly action: 'refuse'; readonly commandId: string; readonly detail: string }
  /** Nothing to answer to (no usable id): logged and dropped. */
  | { readonly action: 'drop'; readonly reason: string };

const COMMAND_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The allow-list and validation of a delivered command, as a pure decision: a type outside
 * the allow-list or an invalid command is refused when it carries a usable id, else dropped.
 */
export function classifyCommand(payload: string): Intake {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return { action: 'drop', reason: 'dropped a command that is not JSON' };
  }
  const fields: { commandId?: unknown; type?: unknown } = typeof raw === 'object' && raw !== null ? raw : {};
  const id = fields.commandId;
  const validId = typeof id === 'string' && COMMAND_ID.test(id);
  const type = fields.type;
  if (!commandType.safeParse(type).success) {
    if (validId) return { action: 'refuse', commandId: id, detail: `command type ${JSON.stringify(type)?.slice(0, 64)} is not allowed on this host (allowed: ${commandType.options.join(', ')})` };
    return { action: 'drop', reason: 'dropped a command of a type that is not allowed and without a usable id' };
  }
  const parsed = commandMessage.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    if (validId) return { action: 'refuse', commandId: id, detail: `invalid command: ${why}` };
    return { action: 'drop', reason: `dropped an invalid command: ${why}` };
  }
  return { action: 'run', command: parsed.data };
}
