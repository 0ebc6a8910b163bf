/**
 * One jest run for every tier. Unit specs live beside the code (*.spec.ts); workflow tests (time-skipping server)
 * and end-to-end tests (real FerretDB, Temporal, Asterisk, sipp) live in test/. scripts/test.sh starts the servers.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: [
    '<rootDir>/src',
    '<rootDir>/config',
    '<rootDir>/api',
    '<rootDir>/activities',
    '<rootDir>/workflows',
    '<rootDir>/test',
  ],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
  testTimeout: 120_000,
  // Workers, ARI websockets and sipp children are closed in afterAll; anything left is a bug worth seeing.
  detectOpenHandles: false,
};
