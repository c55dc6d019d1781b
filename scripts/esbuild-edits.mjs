// Edits to bundled packages for start-up time, as an esbuild plugin: scripts/build.mjs uses
// it, and so can any other script that bundles src/cli/main.ts (a standalone executable).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const pick = (object, keys) => Object.fromEntries(keys.map((key) => [key, object[key]]));

/**
 * Small edits to bundled packages, each for start-up time. Each names the exact text it
 * replaces and fails the build when that text is gone (the package changed: look again).
 */
const EDITS = [
  {
    // Not for start-up, for safety: y18n reads yargs' messages from <package>/../locales/<LANG>.json,
    // a directory outside pushgw (for a checkout in /tmp, /tmp/locales), where another user could
    // plant a file that rewrites --help or a FIFO that hangs every run. pushgw ships no
    // translations: the messages stay yargs' English ones and no file is read.
    file: /[\\/]y18n[\\/]build[\\/]lib[\\/]index\.js$/,
    from: "    _readLocaleFile() {\n",
    to: "    _readLocaleFile() {\n        this.cache[this.locale] = {};\n        if (this.cache) return;\n",
  },
  {
    // chalk's supports-color imports node:process by default, which makes esbuild copy the
    // process object's 80-odd properties, as getters, into a new object at load (execa's copies
    // are shimmed below, but a shim module shared with the main bundle would become a file of
    // its own). That module's default export is the process object itself.
    file: /[\\/]chalk[\\/]source[\\/]vendor[\\/]supports-color[\\/]index\.js$/,
    from: "import process from 'node:process';\n",
    to: "const process = globalThis.process;\n",
  },
  {
    // y18n passes every string yargs asks for (each option's description, "Options:"…) through
    // util.format, about 0.35 ms of every run. A string without % and nothing to put in comes
    // out of util.format as it went in, and is returned as it is.
    file: /[\\/]y18n[\\/]build[\\/]lib[\\/]index\.js$/,
    from: "        return shim.format.apply(shim.format, [this.cache[this.locale][str] || str].concat(args));\n",
    to: "        const text = this.cache[this.locale][str] || str;\n        return args.length === 0 && !text.includes('%') ? text : shim.format.apply(shim.format, [text].concat(args));\n",
  },
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
    // undici's HTTP/1 client loads node:http, and with it Node's whole HTTP stack (the
    // server, the agent, the parser's bindings, perf hooks: some 2.5 ms of every push), only to
    // read the default limit on a response's header block. Node sets that limit to 16 KiB
    // unless --max-http-header-size is given: on the command line or in NODE_OPTIONS, with
    // dashes or underscores (--max_http_header_size), or in a configuration file Node was told
    // to read (--experimental-config-file, --experimental-default-config-file); only then is
    // node:http asked.
    file: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/,
    from: "const http = require('node:http')\n",
    to: "const http = { get maxHeaderSize () { return /--max[-_]http[-_]header[-_]size|config[-_]file/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`) ? require('node:http').maxHeaderSize : 16384 } }\n",
  },
  {
    // The same: undici's helpers load node:http to tell a response stream of Node's from other
    // streams as they are destroyed. Only a stream whose class is named IncomingMessage can be
    // one, and only then is node:http asked.
    file: /[\\/]undici[\\/]lib[\\/]core[\\/]util\.js$/,
    from: "const { IncomingMessage } = require('node:http')\n",
    to: "",
  },
  {
    file: /[\\/]undici[\\/]lib[\\/]core[\\/]util\.js$/,
    from: "if (Object.getPrototypeOf(stream).constructor === IncomingMessage) {",
    to: "if (Object.getPrototypeOf(stream).constructor?.name === 'IncomingMessage' && Object.getPrototypeOf(stream).constructor === require('node:http').IncomingMessage) {",
  },
  {
    // V8's flags for undici's WebAssembly parser are set just before undici compiles it, at the
    // first connection, by the call the HTTP adapter (src/adapters/undici-http.ts) puts on
    // globalThis: by then the connection has loaded the built-in modules it needs, and they come
    // from Node's code cache, which is checked against V8's flags.
    file: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h1\.js$/,
    from: "    llhttpInstance = lazyllhttp()\n",
    to: "    globalThis[Symbol.for('pushgw.before-llhttp')]?.()\n    llhttpInstance = lazyllhttp()\n",
  },
  {
    // undici's helpers build a search tree of 100-odd well-known header names when loaded
    // (about 0.5 ms of every push), to lower-case a response's header names without making
    // new strings. Without it they are lower-cased as any other name is, to the same text; a
    // push reads an answer with two or three headers.
    file: /[\\/]undici[\\/]lib[\\/]core[\\/]util\.js$/,
    from: "const { tree } = require('./tree')\n",
    to: "const tree = { lookup: () => null }\n",
  },
  {
    // undici's HTTP/1 client loads llparse's constants for llhttp (every method, status, header
    // character table…, about 1 ms of every push to build) and reads two of its enums: the
    // parser's error codes and its response type. Those two are written in at build time, from
    // the same file; a client that reads anything else from it fails the build (below).
    file: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h1\.js$/,
    from: "const constants = require('../llhttp/constants.js')\n",
    to: (path) => `const constants = ${JSON.stringify(pick(require(join(dirname(path), "../llhttp/constants.js")), ["ERROR", "TYPE"]))}\n`,
    // Every other mention of `constants` in the file must read one of these two.
    onlyUses: { name: "constants", declared: "constants = ", members: ["ERROR", "TYPE"] },
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
    // yargs checks the arguments of each call made to its API (.option(), .alias(), .describe()…)
    // by parsing a signature string every time, and only ever warns: some 2 ms of every run.
    // pushgw's calls are fixed, and TypeScript checks the same types when pushgw is built.
    file: /[\\/]yargs[\\/]build[\\/]lib[\\/]argsert\.js$/,
    from: "export function argsert(arg1, arg2, arg3) {\n",
    to: "export function argsert(arg1, arg2, arg3) {\n    return;\n",
  },
  {
    // human-signals builds a table by signal number at load time (about 4 ms of every wrap,
    // a quadratic search) that execa never reads; marked pure, esbuild drops it.
    file: /[\\/]human-signals[\\/]build[\\/]src[\\/]main\.js$/,
    from: "export const signalsByNumber=getSignalsByNumber();",
    to: "export const signalsByNumber=/* @__PURE__ */ getSignalsByNumber();",
  },
  {
    // execa lists process.stdin, stdout and stderr when it is loaded, and reading
    // process.stdin makes the stream: for a /dev/null or a file that loads Node's file streams
    // and fs/promises with them (about 3 ms of every wrap, under cron always). The list is
    // made when execa first looks at it.
    file: /[\\/]execa[\\/]lib[\\/]utils[\\/]standard-stream\.js$/,
    from: "export const STANDARD_STREAMS = [process.stdin, process.stdout, process.stderr];",
    to: "let standardStreams;\nconst listStandardStreams = () => (standardStreams ??= [process.stdin, process.stdout, process.stderr]);\nexport const STANDARD_STREAMS = new Proxy([], { get: (_, key) => Reflect.get(listStandardStreams(), key), has: (_, key) => Reflect.has(listStandardStreams(), key) });",
  },
  {
    // execa writes each command it starts out escaped for its messages, with a regular
    // expression of two Unicode classes that it builds when loaded, from ICU's tables (about
    // 0.5 ms of every wrap), and runs over every argument. An argument of printable ASCII alone
    // comes out as it went in (the only character of the classes there is the space, which
    // stays a space): such an argument is left as it is, and the expression is built when an
    // argument first needs it.
    file: /[\\/]execa[\\/]lib[\\/]arguments[\\/]escape\.js$/,
    from: "const escapeControlCharacters = line => line.replaceAll(SPECIAL_CHAR_REGEXP, character => escapeControlCharacter(character));",
    to: "const escapeControlCharacters = line => /^[\\x20-\\x7E]*$/.test(line) ? line : line.replaceAll(SPECIAL_CHAR_REGEXP ??= getSpecialCharRegExp(), character => escapeControlCharacter(character));",
  },
  {
    file: /[\\/]execa[\\/]lib[\\/]arguments[\\/]escape\.js$/,
    from: "const SPECIAL_CHAR_REGEXP = getSpecialCharRegExp();",
    to: "let SPECIAL_CHAR_REGEXP;",
    // COMMON_ESCAPES must leave the space as it is, or the shortcut above would not.
    check: (source) => source.includes("\t' ': ' ',\n"),
  },
  {
    // execa's log lines (its `verbose` option, which pushgw never sets) take their icons from
    // figures, which builds its tables of some 200 symbols when loaded (about 0.8 ms of every
    // wrap). It is loaded when a log line first asks for an icon.
    file: /[\\/]execa[\\/]lib[\\/]verbose[\\/]default\.js$/,
    from: "import figures from 'figures';\n",
    to: "const figures = new Proxy({}, {get: (_, name) => require('figures').default[name]});\n",
  },
  {
    // human-signals describes every signal by name when loaded (about 0.3 ms of every wrap);
    // execa reads a description only for the message of a job killed by a signal. The table
    // is made when first read.
    file: /[\\/]human-signals[\\/]build[\\/]src[\\/]main\.js$/,
    from: "export const signalsByName=getSignalsByName();",
    to: "let signalsByNameTable;\nconst signalsByNameNow=()=>signalsByNameTable??=getSignalsByName();\nexport const signalsByName=new Proxy({},{get:(_,name)=>signalsByNameNow()[name],has:(_,name)=>name in signalsByNameNow(),ownKeys:()=>Reflect.ownKeys(signalsByNameNow()),getOwnPropertyDescriptor:(_,name)=>Reflect.getOwnPropertyDescriptor(signalsByNameNow(),name)});",
  },
];

const assertShim = fileURLToPath(new URL("./shims/assert.cjs", import.meta.url));
const processShim = fileURLToPath(new URL("./shims/process.mjs", import.meta.url));

export const editPackages = {
  name: "edit-packages",
  setup(b) {
    // node:assert, as the packages use it, from scripts/shims/assert.cjs (which loads the real
    // one when a check fails). The methods they call are all it has: a package that calls
    // another one fails the build's tests (a TypeError), not silently.
    b.onResolve({ filter: /^(node:)?assert$/ }, (args) => (args.importer === assertShim ? undefined : { path: assertShim }));
    // node:process, as execa and its helpers import it, from scripts/shims/process.mjs. Not for
    // chalk: a module that both the main bundle and execa's chunk import becomes a chunk of its
    // own, one more file every run reads.
    b.onResolve({ filter: /^(node:)?process$/ }, (args) => (/[\\/]node_modules[\\/]chalk[\\/]/.test(args.importer) ? undefined : { path: processShim }));
    // wrap-ansi (yargs' help layout) imports ansi-styles, and chalk carries a copy of its own:
    // each copy builds the same tables of styles when loaded (about 0.25 ms of every run). Both
    // get chalk's, as long as the two files are the same text.
    const chalkStyles = join(dirname(require.resolve("chalk")), "vendor/ansi-styles/index.js");
    b.onResolve({ filter: /^ansi-styles$/ }, async (args) => {
      if (args.pluginData === "ansi-styles") return undefined;
      const own = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: "ansi-styles" });
      if (own.errors.length > 0) return own;
      const [theirs, chalks] = await Promise.all([readFile(own.path, "utf8"), readFile(chalkStyles, "utf8")]);
      if (theirs !== chalks) throw new Error(`${own.path} is no longer the same as chalk's copy (${chalkStyles}); look again at this in scripts/esbuild-edits.mjs`);
      return { path: chalkStyles };
    });
    // One loader per file, applying every edit for it in turn.
    const files = new Map();
    for (const edit of EDITS) files.set(String(edit.file), [...(files.get(String(edit.file)) ?? []), edit]);
    for (const edits of files.values()) {
      b.onLoad({ filter: edits[0].file }, async (args) => {
        let source = await readFile(args.path, "utf8");
        for (const edit of edits) {
          if (source.split(edit.from).length !== 2) {
            throw new Error(`${args.path}: "${edit.from}" is not there exactly once; the package changed, so look again at this edit in scripts/esbuild-edits.mjs`);
          }
          if (edit.check && !edit.check(source)) throw new Error(`${args.path}: what the edit "${edit.from}" relies on has changed; look again at it in scripts/esbuild-edits.mjs`);
          source = source.replace(edit.from, typeof edit.to === "function" ? edit.to(args.path) : edit.to);
          if (edit.onlyUses) {
            const { name, declared, members } = edit.onlyUses;
            const uses = [...source.matchAll(new RegExp(`\\b${name}\\b.{0,40}`, "g"))].map(([use]) => use);
            const others = uses.filter((use) => !use.startsWith(declared) && !members.some((member) => new RegExp(`^${name}\\.${member}\\b`).test(use)));
            if (others.length > 0) throw new Error(`${args.path} now uses ${name} otherwise (${others.join(" | ")}): look again at this edit in scripts/esbuild-edits.mjs`);
          }
        }
        return { contents: source, loader: "js" };
      });
    }
  },
};
