import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Integration tests start real vigil processes with several replicas each; on a 2-core
    // machine running their files one at a time keeps them from starving each other.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // vigil processes started by tests leave the web console off (inherited by child processes);
    // the browser test turns it on for its own node.
    // Every control-API answer is checked against its route's response schema (route-table.ts):
    // one that does not match is a 500 naming the field, so any test touching a route checks it.
    // Heat and pressure are read from an empty machine (tests/fixtures/host-none): the suite keeps
    // this machine's CPU pressure high, which would hold every test node's scale-ups.
    env: {
      VIGIL_CONSOLE: '0',
      VIGIL_CHECK_RESPONSES: '1',
      VIGIL_HOST_ROOT: new URL('./tests/fixtures/host-none', import.meta.url).pathname,
    },
  },
});
