import { admissionWindow, decideAdmission, MAX_ADMISSION_RETRY_SECONDS } from '../../../lambdas/domain/admission.js';

describe('decideAdmission', () => {
  it.each<[string, number, number | undefined, ReturnType<typeof decideAdmission>]>([
    ['unlimited admits any place', 100_000, undefined, { admitted: true }],
    ['the first place', 1, 10, { admitted: true }],
    ['the last place within the rate', 10, 10, { admitted: true }],
    ['one past the rate: next second', 11, 10, { admitted: false, retryAfterSeconds: 1 }],
    ['a whole second\'s worth past: still next second', 20, 10, { admitted: false, retryAfterSeconds: 1 }],
    ['two seconds\' worth past', 21, 10, { admitted: false, retryAfterSeconds: 2 }],
    ['10,000 at once on 10/s: the last comes back in ~1,000 s, capped', 10_000, 10, { admitted: false, retryAfterSeconds: MAX_ADMISSION_RETRY_SECONDS }],
    ['a rate of 1', 2, 1, { admitted: false, retryAfterSeconds: 1 }],
  ])('%s', (_what, place, perSecond, expected) => {
    expect(decideAdmission(place, perSecond)).toEqual(expected);
  });

  it('the window is the whole second', () => {
    expect(admissionWindow(new Date('2026-12-01T00:00:00.999Z'))).toBe(admissionWindow(new Date('2026-12-01T00:00:00.000Z')));
    expect(admissionWindow(new Date('2026-12-01T00:00:01.000Z'))).toBe(admissionWindow(new Date('2026-12-01T00:00:00.000Z')) + 1);
  });
});
