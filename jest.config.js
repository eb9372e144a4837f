/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'cts', 'js', 'cjs', 'json', 'node'],
  roots: ['<rootDir>/test', '<rootDir>/lib'],
  testMatch: ['**/*.spec.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The CommonJS helpers (.cts) that give each build its own `require` and location.
    '^\\./addon-require\\.cjs$': '<rootDir>/lib/gateway/codec/addon-require.cts',
    '^\\./module-location\\.cjs$': '<rootDir>/lib/testing/module-location.cts',
    '^nestjs-discord-gateway$': '<rootDir>/lib/nest/index.ts',
    '^nestjs-discord-gateway/core$': '<rootDir>/lib/gateway/index.ts',
    '^nestjs-discord-gateway/testing$': '<rootDir>/lib/testing/index.ts',
    '^nestjs-discord-gateway/redis$': '<rootDir>/lib/redis/index.ts',
    '^nestjs-discord-gateway/metrics$': '<rootDir>/lib/metrics/index.ts',
    '^nestjs-discord-gateway/health$': '<rootDir>/lib/health/index.ts',
  },
  transform: {
    '^.+\\.c?ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 60000,
};
