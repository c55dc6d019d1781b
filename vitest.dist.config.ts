import { defineConfig } from "vitest/config";

// The standalone executables and the Debian packages (npm run test:dist, after the builds).
// Apart from `npm test`: the package tests install a .deb on the machine, as root.
export default defineConfig({
  test: {
    include: ["test/dist/**/*.test.ts"],
    globalSetup: ["test/dist/setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
