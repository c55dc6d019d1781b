// Bundles the CLI into dist/ so that a run loads a few files instead of hundreds of modules.
//
// esbuild splits the bundle at pushgw's dynamic import()s, so the code only some commands need
// (undici, execa, the spool) sits in chunks of its own that other runs never read or parse.
// Each output file is then turned into CommonJS: bin/pushgw runs them through vm.Script with a
// V8 code cache on Node 20 (which has no compile cache of its own; src/adapters/v8-code-cache.ts),
// and through require() with Node's compile cache on Node 22+. dist/pushgw.cjs exports
// main(argv); dist/launch.cjs is the Node 20 launcher.
import { build, transform } from "esbuild";
import { createHash } from "node:crypto";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const dist = new URL("../dist/", import.meta.url);
const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
await rm(dist, { recursive: true, force: true });

/**
 * Small edits to bundled packages, each for start-up time. Each names the exact text it
 * replaces and fails the build when that text is gone (the package changed: look again).
 */
const EDITS = [
  {
    // undici's HTTP/1 client requires its HTTP/2 client at load time, which loads node:http2
    // and with it tls and all of crypto (pbkdf2, scrypt, keygen, x509…): about 40 more
    // built-in modules, some 10 ms, for a plain http:// push that never negotiates HTTP/2
    // (pushgw never sets allowH2). The require moves to the first HTTP/2 connection.
    file: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/,
    from: "const connectH2 = require('./client-h2.js')",
    to: "const connectH2 = (client, socket) => require('./client-h2.js')(client, socket)",
  },
  {
    // yargs renders the command's whole help text after starting its handler, so that a
    // handler calling showHelp() later still finds it: about 6 ms of every run, for text
    // pushgw never shows then (its handlers do not call showHelp, and a failure prints one
    // line and a hint). --help renders the help as before.
    file: /[\\/]yargs[\\/]build[\\/]lib[\\/]command\.js$/,
    from: "yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();",
    to: "",
  },
  {
    // A new yargs instance registers --version with a version it guesses by searching for a
    // package.json: it lists every directory from the current one (cron's: $HOME) up to /,
    // and reads and parses any package.json it meets. pushgw then sets --version itself, so
    // the search is only cost: about 2 ms of every run, more in a large home directory.
    file: /[\\/]yargs[\\/]build[\\/]lib[\\/]yargs-factory\.js$/,
    from: "        yargs.help();\n        yargs.version();\n",
    to: "        yargs.help();\n",
  },
  {
    // human-signals builds a table by signal number at load time (about 4 ms of every wrap,
    // a quadratic search) that execa never reads; marked pure, esbuild drops it.
    file: /[\\/]human-signals[\\/]build[\\/]src[\\/]main\.js$/,
    from: "export const signalsByNumber=getSignalsByNumber();",
    to: "export const signalsByNumber=/* @__PURE__ */ getSignalsByNumber();",
  },
];

const editPackages = {
  name: "edit-packages",
  setup(b) {
    for (const edit of EDITS) {
      b.onLoad({ filter: edit.file }, async (args) => {
        const source = await readFile(args.path, "utf8");
        if (source.split(edit.from).length !== 2) {
          throw new Error(`${args.path}: "${edit.from}" is not there exactly once; the package changed, so look again at this edit in scripts/build.mjs`);
        }
        return { contents: source.replace(edit.from, edit.to), loader: "js" };
      });
    }
  },
};

await build({
  entryPoints: { pushgw: "src/cli/main.ts" },
  outdir: fileURLToPath(dist),
  outExtension: { ".js": ".cjs" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Smaller text parses faster, and parsing is most of a run's start-up.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: false,
  // yargs, chalk, undici and execa are bundled, so the package installs with no dependencies;
  // their licence notices go beside the bundle.
  legalComments: "external",
  logLevel: "warning",
  define: { __PUSHGW_VERSION__: JSON.stringify(pkg.version) },
  alias: { "string-width": fileURLToPath(new URL("./shims/string-width.mjs", import.meta.url)) },
  plugins: [editPackages],
});

// To CommonJS, file by file: imports between chunks become require()s, dynamic import()s
// become lazy require()s, and import.meta.url (yargs reads it for createRequire) is the file's
// own URL, as it was in ES module form.
const outputs = (await readdir(dist)).filter((name) => name.endsWith(".cjs")).sort();
const contents = new Map();
for (const name of outputs) {
  const esm = await readFile(new URL(name, dist), "utf8");
  const { code } = await transform(esm, {
    format: "cjs",
    target: "node20",
    minifyWhitespace: true,
    minifySyntax: true,
    define: { "import.meta.url": "__pushgwFileUrl" },
    // import("./chunk.cjs") becomes a lazy require(), so chunks load through the same loader.
    supported: { "dynamic-import": false },
    banner: esm.includes("import.meta.url") ? 'var __pushgwFileUrl = require("node:url").pathToFileURL(__filename).href;' : "",
    logLevel: "warning",
  });
  contents.set(name, code);
}
for (const [name, code] of contents) await writeFile(new URL(name, dist), code);

// The launcher keys its caches by the build, hashed here once rather than at every start.
const buildHash = createHash("sha256");
for (const [name, code] of contents) buildHash.update(name).update("\0").update(code).update("\0");
await build({
  entryPoints: { launch: "src/adapters/v8-code-cache.ts" },
  outdir: fileURLToPath(dist),
  outExtension: { ".js": ".cjs" },
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
  define: { __PUSHGW_BUILD_HASH__: JSON.stringify(buildHash.digest("hex").slice(0, 16)) },
});
