// Bundles the CLI into dist/ so that a run loads one file instead of hundreds of modules.
// Dynamic imports (undici, execa) become separate chunks, loaded only by the commands that
// need them.
import { build } from "esbuild";
import { readFile, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
await rm(new URL("../dist", import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { pushgw: "src/cli/main.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Smaller text parses faster, and parsing is most of a run's start-up; names are kept so
  // that a stack trace in a bug report still says where.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: false,
  // yargs, chalk, undici and execa are bundled, so the package installs with no dependencies;
  // their licence notices go beside the bundle.
  legalComments: "external",
  logLevel: "warning",
  define: { __PUSHGW_VERSION__: JSON.stringify(pkg.version) },
  alias: { "string-width": fileURLToPath(new URL("./shims/string-width.mjs", import.meta.url)) },
  // Bundled CommonJS (undici) calls require() for Node's built-ins.
  banner: { js: 'import { createRequire as __pushgwCreateRequire } from "node:module"; const require = __pushgwCreateRequire(import.meta.url);' },
});
