/**
 * Which calls carry an Idempotency-Key: the creating POSTs (a collection route, or a sub-resource
 * created under one: versions, upgrades, user-data), so a retried click creates nothing twice.
 * Actions on an existing resource (approve, publish, pause, …) are not creates.
 */
const ACTIONS = /\/\{[^}]+\}\/(approve|reject|decommission|publish|pause|resume|cancel|promote|detach|scale|reconfigure|start)$/;

export function needsIdempotencyKey(method: string, schemaPath: string): boolean {
  return method.toUpperCase() === 'POST' && !ACTIONS.test(schemaPath);
}
