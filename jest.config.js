/**
 * Four projects, selectable one at a time (`npm run test:unit`, `test:integration`, `test:infra`, `test:browser`);
 * `npm test` runs all four (the browser tests drive Debian's Chromium at /usr/bin/chromium: `apt-get install chromium`).
 * Unit tests need no Java, no DynamoDB Local and no broker process.
 */
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 60000,
};

const project = (name) => ({ ...shared, displayName: name, roots: [`<rootDir>/test/${name}`], testMatch: ['**/*.test.ts'] });

/** @type {import('jest').Config} */
export default {
  projects: [project('unit'), project('integration'), project('infra'), project('browser')],
  testTimeout: 60000,
  maxWorkers: 2,
  // Tags every DynamoDB Local of the run and kills what a hung, SIGKILLed worker left behind.
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
};
