import { defineConfig } from "vitest/config";

// npm run test:unit: every test that starts no server and no process (pure code, the CLI's
// parsing, use cases over fakes, adapters over the file system), for the edit-test loop.
// Tests that start anything live in test/e2e/; npm test runs everything.
export default defineConfig({
  test: {
    include: ["test/{core,cli,app,adapters,docs,property}/**/*.test.ts"],
    // Some tables run 200,000 series through the checker: seconds on a busy 2-core machine.
    testTimeout: 30_000,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
