import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const shared = fileURLToPath(new URL('./shared/src/index.ts', import.meta.url));
const sharedPolicy = fileURLToPath(new URL('./shared/src/policy/index.ts', import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@vigil\/shared$/, replacement: shared },
      { find: /^@vigil\/shared\/policy$/, replacement: sharedPolicy },
    ],
  },
  test: {
    projects: [
      { extends: true, test: { name: 'shared', include: ['shared/src/**/*.test.ts'] } },
      { extends: true, test: { name: 'agent', include: ['agent/src/**/*.test.ts'] } },
      { extends: true, test: { name: 'collector', include: ['collector/src/**/*.test.ts'] } },
      { extends: true, test: { name: 'installers', include: ['installers/src/**/*.test.ts'] } },
      // Cross-process tests start the built collector and agents as child processes.
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000, fileParallelism: false } },
    ],
  },
});
