import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    // CI reads a plain "N passed, N failed" line that .ci/run derives from the JSON report.
    reporters: process.env.CI ? ['default', ['json', {outputFile: '.vitest-report.json'}]] : ['default'],
  },
})
