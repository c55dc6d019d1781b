import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The standalone executables and Debian packages have their own run (vitest.dist.config.ts).
    exclude: [...configDefaults.exclude, "test/dist/**"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Behaviour tests start real processes; two workers match the two cores CI has.
    maxWorkers: 2,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
