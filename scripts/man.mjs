// npm run man: writes man/pushgw.1 from the commands' own definitions (src/cli/man-page.ts).
// A test fails when the committed page drifts from the flags.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8"));
const bundle = `${root}node_modules/.cache/pushgw-man/man.mjs`;
mkdirSync(`${root}node_modules/.cache/pushgw-man`, { recursive: true });
await build({
  entryPoints: [`${root}src/cli/man-page.ts`],
  outfile: bundle,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  logLevel: "warning",
});
const { buildManPage } = await import(pathToFileURL(bundle).href);
rmSync(bundle);
mkdirSync(`${root}man`, { recursive: true });
writeFileSync(`${root}man/pushgw.1`, buildManPage(pkg.version));
