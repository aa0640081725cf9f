/** What a split fleet's parent and its worker processes say to each other over IPC. */
import { z } from 'zod';
import type { AgentSnapshot } from './agent-census.js';

export const workerStart = z.object({
  type: z.literal('start'),
  apiUrl: z.string(),
  registrationToken: z.string(),
  project: z.string(),
  count: z.number().int().min(0),
  firstIndex: z.number().int().min(1),
  stateDir: z.string(),
  uidPrefix: z.string(),
  site: z.string().optional(),
  tunnelEndpoint: z.string().optional(),
  checkIntervalMs: z.number().int().positive().optional(),
});
export type WorkerStart = z.infer<typeof workerStart>;

export type WorkerReport =
  | { readonly type: 'ready' }
  | {
    readonly type: 'status'; readonly online: number; readonly refused: number; readonly rss: number; readonly baselineRss: number;
    /** The worker's CPU time, all its threads, since its agents started (ms). */
    readonly cpuMs: number;
    /** Agents past registration (they hold their certificate). */
    readonly registered: number;
    /** When (epoch ms, to the report interval) agents were first seen registered / online, since the previous report. */
    readonly newlyRegisteredAt: readonly number[]; readonly newlyOnlineAt: readonly number[];
  }
  /** The answer to `{ type: 'census' }`: every agent of the worker as it is now. */
  | { readonly type: 'census'; readonly agents: readonly AgentSnapshot[] }
  | { readonly type: 'stopped' };
