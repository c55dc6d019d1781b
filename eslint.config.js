// Lint, run by `npm test`: typescript-eslint's recommended rules, and the layers of src/ kept
// apart (src/core decides and does no I/O; src/app uses ports only; adapters never reach the CLI).
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";
import { noImportCycle } from "./scripts/import-cycles.mjs";

const layer = (files, message, patterns) => ({
  files,
  rules: { "no-restricted-imports": ["error", { patterns: patterns.map((group) => ({ group, message })) }] },
});

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".bench/", ".ci/", "completions/", "man/", "alerting/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      // `String.raw`-free regexes for control characters are deliberate (terminal escapes, the text format).
      "no-control-regex": "off",
    },
  },
  // bin/ is CommonJS on purpose (it starts without Node's ES module loader).
  { files: ["bin/**/*.cjs"], languageOptions: { sourceType: "commonjs" }, rules: { "@typescript-eslint/no-require-imports": "off" } },
  layer(["src/core/**"], "src/core decides and does no I/O: it imports nothing of app, adapters, cli, and no I/O library", [
    ["**/app/**", "**/adapters/**", "**/cli/**"],
    ["node:fs", "node:fs/*", "node:net", "node:http", "node:child_process", "node:os", "undici", "undici/*", "execa", "chalk", "yargs", "yargs/*"],
  ]),
  layer(["src/app/**"], "src/app reaches the outside world through the ports in app/ports.ts only", [
    ["**/adapters/**", "**/cli/**"],
    ["node:fs", "node:fs/*", "node:net", "node:http", "node:child_process", "undici", "undici/*", "execa", "chalk", "yargs", "yargs/*"],
  ]),
  layer(["src/adapters/**"], "adapters implement ports; they never import the CLI", [["**/cli/**"]]),
  // No import cycles in src/, type-only imports included (scripts/import-cycles.mjs).
  { files: ["src/**/*.ts"], plugins: { pushgw: { rules: { "no-import-cycle": noImportCycle } } }, rules: { "pushgw/no-import-cycle": "error" } },
  // npm run test:unit runs these folders and must start no server and no process: such a test
  // belongs in test/e2e/.
  layer(["test/core/**", "test/cli/**", "test/app/**", "test/adapters/**", "test/docs/**", "test/property/**"], "unit tests start no server and no process: put this test in test/e2e/", [
    ["node:child_process", "child_process", "node:http", "http", "node:https", "https", "node:net", "net", "execa", "**/helpers/pushgateway*", "**/helpers/versions*", "**/helpers/tls*", "**/helpers/cron-daemon*", "**/helpers/prometheus*", "**/helpers/run-cli*", "**/helpers/tinyproxy*", "**/helpers/fault-proxy*", "**/helpers/tmux-shell*", "**/helpers/standalone*", "**/helpers/mounts*", "**/helpers/attacker*", "**/helpers/todays-stack*"],
  ]),
);
