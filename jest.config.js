/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/test', '<rootDir>/lib'],
  testMatch: ['**/*.spec.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^nestjs-discord-gateway$': '<rootDir>/lib/nest/index.ts',
    '^nestjs-discord-gateway/core$': '<rootDir>/lib/gateway/index.ts',
    '^nestjs-discord-gateway/testing$': '<rootDir>/lib/testing/index.ts',
    '^nestjs-discord-gateway/redis$': '<rootDir>/lib/redis/index.ts',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 20000,
};
