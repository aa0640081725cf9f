/** The local stand-in for an EventBridge schedule: runs overlap as on AWS, or are skipped; stop waits for every run. */
import { startSchedule } from '../../../local/schedule.js';

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  return { opened, open };
};
const until = async (check: () => boolean) => { while (!check()) await new Promise((r) => setTimeout(r, 5)); };

describe('startSchedule', () => {
  it.each<['allowed' | 'skip', (started: number) => boolean]>([
    ['allowed', (started) => started >= 3],
    ['skip', (started) => started === 1],
  ])('overlap %s: a run that outlasts the interval; stop() waits for every run still going', async (overlap, expected) => {
    // The ticks come on time whatever the load: "allowed" waits until three runs started.
    const g = gate();
    let started = 0;
    let ended = 0;
    const schedule = startSchedule({ name: 'test sweep', everyMs: 5, overlap, run: async () => { started++; await g.opened; ended++; } });
    await until(() => started >= (overlap === 'allowed' ? 3 : 1));
    await new Promise((r) => setTimeout(r, 40));
    expect(expected(started)).toBe(true);
    let stopped = false;
    const stopping = schedule.stop().then(() => { stopped = true; });
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    g.open();
    await stopping;
    expect(ended).toBe(started);
    const after = started;
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toBe(after);
  });

  it('a failed run is logged and the next tick runs again', async () => {
    let runs = 0;
    const schedule = startSchedule({ name: 'test sweep', everyMs: 5, overlap: 'skip', run: async () => { runs++; throw new Error('boom'); } });
    await until(() => runs >= 2);
    await schedule.stop();
  });
});
