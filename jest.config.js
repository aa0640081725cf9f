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
  // A worker is replaced once its heap holds more than this after a test file. Each file loads
  // the AWS SDK, aws-crt and the runtime into a fresh module registry, and not all of it is
  // released: without a limit a worker grew to 5 GB over a full run (V8's heap limit is ~4 GB),
  // and the runtimes it hosted late in the run ran slower for it.
  workerIdleMemoryLimit: '1GB',
  // Tags every DynamoDB Local of the run and kills what a hung, SIGKILLed worker left behind.
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
};
