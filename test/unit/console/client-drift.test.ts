import { readFileSync } from 'node:fs';
import { CONSOLE_SCHEMA_FILE, renderConsoleClient } from '../../../bin/console-client.js';

describe('the console\'s generated API client', () => {
  it('matches the API\'s OpenAPI document (run `npm run console:client` after changing the zod schemas)', async () => {
    const fresh = await renderConsoleClient();
    const checkedIn = readFileSync(CONSOLE_SCHEMA_FILE, 'utf8');
    expect(checkedIn === fresh).toBe(true);
    // It is the real thing: the hosts list with its server-side filters, typed.
    expect(fresh).toContain('"/v1/hosts": {');
    expect(fresh).toMatch(/status\?: "pre-registered" \| "pending" \| "approved"/);
  });
});
