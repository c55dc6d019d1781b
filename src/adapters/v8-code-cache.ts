import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { Script } from "node:vm";
import { privateCacheDirectory } from "./cache-directory.js";

/**
 * The launcher bin/pushgw uses on every Node: it runs the CommonJS bundle through vm.Script
 * with a V8 code cache kept in the user's XDG cache directory. Compiling the bundle is most of
 * a short run's start-up; with the cache, V8 deserialises the functions earlier runs compiled
 * instead. (Node 22's own compile cache measured 10-12 % more instructions for a push: it
 * holds only what the first run compiled, a third of what this one holds.)
 *
 * A cache is never wasted: it records the commands whose runs it holds, and a run of another
 * command that ends well writes it again after the run, with what both compiled (a cache first
 * written by `--version` holds little of a push). Runs with other V8 flags (NODE_OPTIONS,
 * node's own options) keep caches of their own, since V8 rejects a cache made under other flags.
 *
 * The cache is an optimisation and nothing more: missing, stale, corrupt, unreadable or
 * unwritable, it is skipped and the run goes on as if there were none. Because it is code
 * that will run, it is only read from a directory that nobody but the user (or root) could have
 * written to, parents included (privateCacheDirectory), only from a regular file the user owns
 * (never through a symlink), only after V8 has checked it (version, flags, source, and a checksum turned on below), and it is written
 * under a fresh name with exclusive create, then renamed into place.
 */

/** Set by scripts/build.mjs: a hash of every file in dist/ but this one. */
declare const __PUSHGW_BUILD_HASH__: string | undefined;
/**
 * Set by scripts/build.mjs: for each file in dist/, the files it requires as it is evaluated
 * (its static imports), all the way down. They are compiled together with it.
 */
declare const __PUSHGW_STATIC_IMPORTS__: Readonly<Record<string, readonly string[]>> | undefined;
/** Set by scripts/build.mjs: the function wrapper it writes each file of dist/ inside. */
declare const __PUSHGW_COMMONJS_WRAPPER__: string;

/** Caches are a few MB; anything much larger is not one of ours. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
const SUFFIX = ".v8cache";
/** Builds of pushgw besides the running one whose caches are kept, per Node version. */
const KEEP_OTHER_BUILDS = 2;
/**
 * A cache file begins with one line naming the commands it holds ("pushgw-cache -,add"), then
 * V8's data. The list stops growing at this length (the cache is then simply not rewritten).
 */
const HEADER_MAGIC = "pushgw-cache ";
const MAX_HEADER_BYTES = 512;

// Flags are part of what V8 checks in a code cache, so the ones pushgw sets while running
// must be set alike when a cache is made and when it is read:
// - the checksum over the cache's contents, which release builds of V8 leave off (a cache
//   with a flipped bit would otherwise be run);
// - --liftoff-only and --no-wasm-lazy-compilation, which the HTTP adapter sets for undici's
//   WebAssembly parser (see there).
// They are set only while a cache is read or made, and put back after: Node's own code cache for
// its built-in modules (http, net, stream…) is checked against the flags too, and every built-in
// loaded while they were set was compiled from its source (about 25 M instructions for http).
const CACHE_FLAGS = ["--verify-snapshot-checksum", "--liftoff-only", "--no-wasm-lazy-compilation"];
const PLAIN_FLAGS = ["--no-verify-snapshot-checksum", "--no-liftoff-only", "--wasm-tier-up", "--wasm-dynamic-tiering", "--wasm-lazy-compilation"];
/** Set on globalThis by the HTTP adapter once it has turned its flags on for good. */
const LIFTOFF_FOR_GOOD = Symbol.for("pushgw.liftoff-only");

/**
 * Runs `work` with the flags a cache is made and read under, then puts back the plain ones:
 * all of them, or only the checksum once the HTTP adapter has set its own for good, or none when Node's
 * options name any of these flags (the user's own settings stay as they are).
 */
function withCacheFlags<T>(work: () => T, keepFlags: boolean): T {
  for (const flag of CACHE_FLAGS) setFlagsFromString(flag);
  try {
    return work();
  } finally {
    if (!keepFlags) {
      const liftoffForGood = (globalThis as Record<symbol, unknown>)[LIFTOFF_FOR_GOOD] === true;
      for (const flag of liftoffForGood ? PLAIN_FLAGS.slice(0, 1) : PLAIN_FLAGS) setFlagsFromString(flag);
    }
  }
}

export interface CacheLocation {
  readonly directory: string;
  readonly file: string;
}

/**
 * What a cache belongs to: a Node version and architecture, one build of dist/, and the options
 * given to Node (none for a plain run; else a hash of them, so that such runs keep caches apart).
 */
export function cacheKey(nodeVersion: string, arch: string, buildHash: string): string {
  return `pushgw-${nodeVersion}-${arch}-${buildHash}`;
}

/** Put after the key in a cache's name: nothing for a plain run, else a hash of Node's options. */
export function optionsTag(nodeOptions: string): string {
  return nodeOptions === "" ? "" : `-o${fnv1a(nodeOptions)}`;
}

/**
 * The options given to Node that may change V8's flags: NODE_OPTIONS and node's own `--` options
 * (`node -e CODE` puts `-e` and the code there, which change no flag).
 */
export function nodeOptionsOf(execArgv: readonly string[], env: NodeJS.ProcessEnv): string {
  const own = execArgv.filter((arg) => arg.startsWith("--"));
  const fromEnv = env["NODE_OPTIONS"]?.trim() ?? "";
  return [...own, ...(fromEnv === "" ? [] : [fromEnv])].join("\0");
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/** The commands a cache holds, and V8's data. */
export interface CacheContents {
  readonly commands: readonly string[];
  readonly data: Buffer;
}

/** A cache file's bytes: its header line, then V8's data. */
export function encodeCache(commands: readonly string[], data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${HEADER_MAGIC}${commands.join(",")}\n`, "latin1"), data]);
}

export function decodeCache(bytes: Buffer): CacheContents | undefined {
  const end = bytes.subarray(0, MAX_HEADER_BYTES).indexOf(10);
  if (end < 0) return undefined;
  const header = bytes.toString("latin1", 0, end);
  if (!header.startsWith(HEADER_MAGIC) || end + 1 >= bytes.length) return undefined;
  const list = header.slice(HEADER_MAGIC.length);
  return { commands: list === "" ? [] : list.split(","), data: bytes.subarray(end + 1) };
}

/**
 * What a run holds for the cache: the command's name; "-" for a run that printed help or the
 * version, or named no command (those compile least). Guessed from argv (the first plain word),
 * as the launcher cannot ask yargs: a wrong guess costs one more write at most.
 */
export function commandOf(argv: readonly string[]): string {
  if (argv.some((arg) => arg === "--help" || arg === "-h" || arg === "--version")) return "-";
  const word = argv.find((arg) => !arg.startsWith("-"));
  return word !== undefined && /^[a-z][a-z-]{0,31}$/.test(word) ? word : "-";
}

/** The cache's bytes, or undefined when there is none or it is not plainly ours. */
export function readCache(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    // O_NONBLOCK: a FIFO in the cache's place would otherwise hold the start until a writer came.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const info = fstatSync(fd);
    if (!info.isFile() || info.size === 0 || info.size > MAX_CACHE_BYTES) return undefined;
    if (typeof process.getuid === "function" && info.uid !== process.getuid()) return undefined;
    if ((info.mode & 0o022) !== 0) return undefined;
    const data = Buffer.allocUnsafe(info.size);
    let read = 0;
    while (read < data.length) {
      const n = readSync(fd, data, read, data.length - read, read);
      if (n === 0) return undefined;
      read += n;
    }
    return data;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes under a fresh name created exclusively (O_EXCL never follows a planted symlink),
 * then renames it over the cache's name (a rename replaces a symlink, it does not write
 * through it). Concurrent runs each write their own file; the last rename wins, and every
 * version renamed in is whole. Failures leave no temporary file behind.
 */
export function writeCache(location: CacheLocation, data: Uint8Array): boolean {
  const temporary = `${location.file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, location.file);
    return true;
  } catch {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temporary);
    } catch {
      // never created, or already gone
    }
    return false;
  }
}

/**
 * Removes the caches of older builds for this Node version and architecture, keeping the
 * current one and the KEEP_OTHER_BUILDS written last (two installs used in turn, a global one
 * and a checkout, would otherwise delete each other's caches at every run), and the temporary
 * files a killed run left. Other Node versions' caches stay: people switch between them.
 */
function pruneStaleCaches(directory: string, key: string): void {
  try {
    const sameNode = key.slice(0, key.lastIndexOf("-") + 1);
    const now = Date.now();
    const builds = new Map<string, { files: string[]; newest: number }>();
    for (const name of readdirSync(directory)) {
      if (!name.startsWith("pushgw-")) continue;
      const path = join(directory, name);
      const modified = lstatSync(path).mtimeMs;
      // A temporary file younger than a minute may be another run's write in progress.
      if (name.endsWith(".tmp")) {
        if (now - modified > 60_000) unlinkSync(path);
        continue;
      }
      if (!name.endsWith(SUFFIX) || !name.startsWith(sameNode) || name.startsWith(`${key}-`)) continue;
      const build = name.slice(0, name.indexOf("-", sameNode.length));
      const entry = builds.get(build) ?? { files: [], newest: 0 };
      entry.files.push(path);
      entry.newest = Math.max(entry.newest, modified);
      builds.set(build, entry);
    }
    const older = [...builds.values()].sort((a, b) => b.newest - a.newest).slice(KEEP_OTHER_BUILDS);
    for (const build of older) for (const path of build.files) unlinkSync(path);
  } catch {
    // tidying is best effort
  }
}

function staticImports(): Readonly<Record<string, readonly string[]>> {
  return typeof __PUSHGW_STATIC_IMPORTS__ === "object" ? __PUSHGW_STATIC_IMPORTS__ : {};
}

/**
 * Where the launcher reads dist/'s files: the file system for the npm install, the executable's
 * own assets for the standalone file (scripts/standalone.mjs).
 */
export interface Sources {
  read(name: string): string;
  /** Put after the key in a cache's name, so that each way of installing keeps caches of its own. */
  readonly keyTag: string;
  /**
   * A cache that came with the files (the standalone file's, made when it was built), for a plain
   * run that has no cache file of its own: with no cache directory, it is all there is.
   */
  bundledCache?(name: string): Buffer | undefined;
}

export function filesIn(distDirectory: string): Sources {
  return { read: (name) => readFileSync(join(distDirectory, name), "utf8"), keyTag: "" };
}

interface LoadedFile {
  readonly script: Script;
  readonly cache: CacheLocation | undefined;
  /** The commands the cache that was used holds; undefined when none was used. */
  readonly commandsHeld: readonly string[] | undefined;
}

/**
 * Loads dist/'s CommonJS files through vm.Script, each with its own code cache; anything
 * else they require (Node's built-ins) goes to Node's require.
 *
 * A file is compiled together with the files it imports statically, under one setting of the
 * cache flags: every change of V8's flags makes V8 hash all its flags again at the next compile
 * (about 0.2 M instructions each time), and a push loads a dozen files.
 */
class CachedLoader {
  private readonly modules = new Map<string, { exports: unknown }>();
  private readonly compiled = new Map<string, Script>();
  private readonly loaded: LoadedFile[] = [];

  constructor(
    private readonly distDirectory: string,
    private readonly sources: Sources,
    private readonly cacheDirectory: string | undefined,
    private readonly key: string,
    private readonly tag: string,
    private readonly keepFlags: boolean,
    private readonly nodeRequire: NodeJS.Require,
  ) {}

  load(name: string): unknown {
    const existing = this.modules.get(name);
    if (existing) return existing.exports;
    if (!this.compiled.has(name)) this.compile([name, ...(staticImports()[name] ?? [])]);
    const script = this.compiled.get(name)!;
    const module = { exports: {} };
    this.modules.set(name, module);
    const filename = join(this.distDirectory, name);
    const require = (id: string): unknown => (id.startsWith("./") && id.endsWith(".cjs") ? this.load(id.slice(2)) : this.nodeRequire(id));
    (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, require, module, filename, this.distDirectory);
    return module.exports;
  }

  /** Reads and compiles the files named that are not compiled yet, with their caches. */
  private compile(names: readonly string[]): void {
    const inputs = [...new Set(names)]
      .filter((name) => !this.compiled.has(name))
      .map((name) => {
        const filename = join(this.distDirectory, name);
        const cache = this.cacheDirectory === undefined ? undefined : { directory: this.cacheDirectory, file: join(this.cacheDirectory, `${this.key}${this.sources.keyTag}${this.tag}-${name.replace(/\.cjs$/, "")}${SUFFIX}`) };
        const bytes = cache && readCache(cache.file);
        const own = bytes && decodeCache(bytes);
        // A cache file that is there but bad is skipped, not replaced by the bundled one.
        const bundled = bytes === undefined && this.tag === "" ? this.sources.bundledCache?.(name) : undefined;
        return { name, filename, cache, contents: own ?? (bundled && decodeCache(bundled)), own: own !== undefined, source: this.sources.read(name) };
      });
    withCacheFlags(() => {
      for (const { name, filename, cache, contents, own, source } of inputs) {
        const cachedData = contents?.data;
        // scripts/build.mjs writes each file inside the wrapper; a file of an older build (an
        // upgrade under way) is wrapped here, as every file used to be.
        const wrapped = source.startsWith(__PUSHGW_COMMONJS_WRAPPER__) ? source : `${__PUSHGW_COMMONJS_WRAPPER__}${source}\n})`;
        const script = new Script(wrapped, { filename, ...(cachedData ? { cachedData } : {}) });
        this.compiled.set(name, script);
        // A bundled cache is no file of the user's: the run writes one, with what it compiled.
        this.loaded.push({ script, cache, commandsHeld: own && script.cachedDataRejected !== true ? contents!.commands : undefined });
      }
    }, this.keepFlags);
  }

  /**
   * Writes a cache for every file that had no usable one, and, after a run that ended well, for
   * every file whose cache does not yet hold the run's command.
   */
  saveCaches(command: string, endedWell: boolean): void {
    let wrote = false;
    for (const file of this.loaded) {
      if (!file.cache) continue;
      const held = file.commandsHeld;
      let commands: readonly string[];
      if (held === undefined) commands = endedWell ? [command] : [];
      else if (endedWell && !held.includes(command)) commands = [...held, command];
      else continue;
      if (HEADER_MAGIC.length + commands.join(",").length + 1 > MAX_HEADER_BYTES) continue;
      // Made after the run, a cache holds every function the run compiled (and every one the
      // cache it replaces held), not just the top level.
      const data = withCacheFlags(() => file.script.createCachedData(), this.keepFlags);
      wrote = writeCache(file.cache, encodeCache(commands, data)) || wrote;
    }
    if (wrote && this.cacheDirectory !== undefined) pruneStaleCaches(this.cacheDirectory, this.key);
  }
}

/**
 * Runs dist/pushgw.cjs's `main(argv)` with code caches; as the process exits (wrap ends with
 * process.exit), saves the caches that were missing or hold less than this run compiled.
 */
export async function launch(
  distDirectory: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  nodeRequire: NodeJS.Require = require,
  sources: Sources = filesIn(distDirectory),
): Promise<void> {
  const directory = typeof __PUSHGW_BUILD_HASH__ === "string" ? privateCacheDirectory(env) : undefined;
  const key = cacheKey(process.version, process.arch, String(__PUSHGW_BUILD_HASH__));
  const nodeOptions = nodeOptionsOf(process.execArgv, env);
  const keepFlags = /liftoff|wasm|snapshot-checksum/.test(nodeOptions);
  // The launcher's own require (a CommonJS module's) loads Node's built-ins for the bundle.
  const loader = new CachedLoader(distDirectory, sources, directory, key, optionsTag(nodeOptions), keepFlags, nodeRequire);
  process.once("exit", (code) => loader.saveCaches(commandOf(argv), code === 0));
  const { main } = loader.load("pushgw.cjs") as { main(argv: readonly string[]): Promise<void> };
  await main(argv);
}

/** Put after the key in the standalone file's caches' names (see launchStandalone). */
const STANDALONE_TAG = "-standalone";
/** The name of the asset that holds a file's bundled cache in the standalone file (scripts/standalone.mjs). */
const bundledCacheAsset = (name: string): string => `v8cache/${name}`;

/**
 * The standalone file's main script (scripts/standalone.mjs) calls this: dist/'s files are its
 * assets, and so are the caches its build wrote, used when the user has none. Its caches are kept
 * apart from an npm install's of the same build and Node, so that neither makes the other rewrite.
 */
export function launchStandalone(argv: readonly string[], nodeRequire: NodeJS.Require = require): Promise<void> {
  const sea = nodeRequire("node:sea") as typeof import("node:sea");
  // Tells the job runner (adapters/execa-runner.ts) that it may ask node:sea, which other runs never load.
  (globalThis as Record<symbol, unknown>)[Symbol.for("pushgw.standalone")] = true;
  const sources: Sources = {
    read: (name) => sea.getAsset(name, "utf8"),
    keyTag: STANDALONE_TAG,
    bundledCache: (name) => {
      try {
        // Not copied: V8 only reads it.
        return Buffer.from(sea.getRawAsset(bundledCacheAsset(name)) as ArrayBuffer);
      } catch {
        return undefined;
      }
    },
  };
  // Where dist/ would be: stack traces name the files beside the executable.
  return launch(dirname(process.execPath), argv, process.env, nodeRequire, sources);
}
