// npm run deb: Debian packages of the standalone executable, made with dpkg-deb.
//
//   dist/deb/pushgw_<version>_amd64.deb, dist/deb/pushgw_<version>_arm64.deb
//   node scripts/deb.mjs [x64|arm64 ...]   packages only the architectures named
//
// Each holds /usr/bin/pushgw (the standalone file, so cron's PATH finds it and no Node is
// needed), the completions where bash-completion, zsh and fish look for vendor completions,
// pushgw(1), the alert rules and dashboard under /usr/share/pushgw/, and the README, its reference
// pages (docs/*.md, in docs/ beside it as in the source) and licence notices under
// /usr/share/doc/pushgw/. The standalone files are built first when missing or older than the
// source.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const out = join(root, "dist/deb");

// Library versions from the Node 20.20.2 binaries' versioned symbols (objdump -T): GLIBC_2.28,
// GLIBCXX_3.4.21 (GCC 5.2), GCC_3.4 on x64 and GCC_4.2.0 on arm64.
const ARCHES = {
  x64: { debian: "amd64", depends: "libc6 (>= 2.28), libgcc-s1 (>= 3.4), libstdc++6 (>= 5.2)" },
  arm64: { debian: "arm64", depends: "libc6 (>= 2.28), libgcc-s1 (>= 4.2), libstdc++6 (>= 5.2)" },
};

const DESCRIPTION = `push metrics to a Prometheus Pushgateway and wrap cron jobs
 pushgw replaces the curl one-liners put in shell scripts and crontabs in
 front of a Prometheus Pushgateway: push and add metrics, delete, list and
 prune groups, and wrap a cron job to push its exit status, duration and
 last success. It checks metrics before sending, builds exact grouping-key
 URLs, retries, and can spool pushes while the gateway is away.
 .
 This package holds pushgw as a single executable (Node.js 20 with pushgw
 built in), so it needs no Node.js on the machine.`;

/** Newest modification time of the files the executable is built from. */
function newestSource() {
  const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  return Math.max(...[...walk(join(root, "src")), join(root, "package.json"), join(root, "scripts/standalone.mjs"), join(root, "scripts/build.mjs")].map((f) => statSync(f).mtimeMs));
}

function ensureStandalone(arch) {
  const file = join(root, `dist/standalone/pushgw-linux-${arch}`);
  const notices = join(root, "dist/standalone/THIRD-PARTY-NOTICES.txt");
  if (!existsSync(file) || !existsSync(notices) || statSync(file).mtimeMs < newestSource()) {
    execFileSync(process.execPath, [join(root, "scripts/standalone.mjs"), arch], { stdio: "inherit" });
  }
  return file;
}

const gzip = (data) => gzipSync(data, { level: 9 }); // no name and no time in the header: reproducible

/**
 * The copyright file: pushgw's licence, then what the executable bundles with its licences.
 * Debian keeps the Apache License 2.0 in /usr/share/common-licenses; copies of it point there.
 */
function copyright(allNotices) {
  const notices = allNotices.replace(
    /^([ \t]*)Apache License\s*\n\s*Version 2\.0, January 2004[\s\S]*?END OF TERMS AND CONDITIONS(?:\s*APPENDIX: How to apply the Apache License to your work\.[\s\S]*?limitations under the License\.)?/gm,
    "$1Apache License, Version 2.0: on Debian systems, the full text is in\n$1/usr/share/common-licenses/Apache-2.0.",
  );
  const licence = readFileSync(join(root, "LICENSE"), "utf8").trim();
  return `pushgw, packaged from its own sources.

Copyright and licence of pushgw:

${licence}

${"=".repeat(78)}

/usr/bin/pushgw is a Node.js single executable application: the official
Node.js binary with pushgw and the npm packages it uses bundled into it.
Their copyright notices and licences follow.

${notices.trim()}
`;
}

function changelog(timestamp) {
  const date = new Date(timestamp * 1000).toUTCString().replace(/GMT$/, "+0000");
  return `pushgw (${pkg.version}) unstable; urgency=medium

  * Release ${pkg.version}. See /usr/share/doc/pushgw/README.md.gz.

 -- ${maintainer()}  ${date}
`;
}

function maintainer() {
  return "pushgw developers <pushgw@users.noreply.github.com>";
}

/** Source time for the package's files and changelog: SOURCE_DATE_EPOCH, else the last commit. */
function sourceDate() {
  if (process.env["SOURCE_DATE_EPOCH"]) return Number(process.env["SOURCE_DATE_EPOCH"]);
  try {
    return Number(execFileSync("git", ["log", "-1", "--format=%ct"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
  } catch {
    return Math.floor(Date.now() / 1000);
  }
}

function buildDeb(arch) {
  const { debian, depends } = ARCHES[arch];
  const executable = ensureStandalone(arch);
  const stage = join(out, `.stage-${debian}`);
  rmSync(stage, { recursive: true, force: true });
  const put = (path, data, mode = 0o644) => {
    const target = join(stage, path);
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    if (typeof data === "string" || Buffer.isBuffer(data)) writeFileSync(target, data);
    else copyFileSync(data.file, target);
    chmodSync(target, mode);
  };
  const timestamp = sourceDate();

  put("usr/bin/pushgw", { file: executable }, 0o755);
  put("usr/share/bash-completion/completions/pushgw", { file: join(root, "completions/pushgw.bash") });
  put("usr/share/zsh/vendor-completions/_pushgw", { file: join(root, "completions/_pushgw") });
  put("usr/share/fish/vendor_completions.d/pushgw.fish", { file: join(root, "completions/pushgw.fish") });
  put("usr/share/man/man1/pushgw.1.gz", gzip(readFileSync(join(root, "man/pushgw.1"))));
  put("usr/share/pushgw/pushgw.rules.yml", { file: join(root, "alerting/pushgw.rules.yml") });
  put("usr/share/pushgw/pushgw-dashboard.json", { file: join(root, "alerting/pushgw-dashboard.json") });
  put("usr/share/doc/pushgw/README.md.gz", gzip(readFileSync(join(root, "README.md"))));
  // Compressed as the README is (Debian policy 12.3 wants files over 4 kB in /usr/share/doc so).
  for (const page of readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).sort()) {
    put(`usr/share/doc/pushgw/docs/${page}.gz`, gzip(readFileSync(join(root, "docs", page))));
  }
  put("usr/share/doc/pushgw/copyright", copyright(readFileSync(join(root, "dist/standalone/THIRD-PARTY-NOTICES.txt"), "utf8")));
  put("usr/share/doc/pushgw/changelog.gz", gzip(changelog(timestamp)));
  put("usr/share/lintian/overrides/pushgw", readFileSync(join(root, "scripts/deb/lintian-overrides"), "utf8"));

  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(stage);
  files.sort();
  const installedKiB = files.reduce((sum, f) => sum + Math.ceil(statSync(f).size / 1024), 0);
  const md5sums = files.map((f) => `${createHash("md5").update(readFileSync(f)).digest("hex")}  ${relative(stage, f)}\n`).join("");
  const control = [
    "Package: pushgw",
    `Version: ${pkg.version}`,
    `Architecture: ${debian}`,
    `Maintainer: ${maintainer()}`,
    `Installed-Size: ${installedKiB}`,
    `Depends: ${depends}`,
    "Section: utils",
    "Priority: optional",
    `Description: ${DESCRIPTION}`,
    "",
  ].join("\n");
  put("DEBIAN/control", control);
  put("DEBIAN/md5sums", md5sums);

  const deb = join(out, `pushgw_${pkg.version}_${debian}.deb`);
  rmSync(deb, { force: true });
  // xz as Debian's own packages; -z6 keeps the 80 MB executable to a few seconds on two cores.
  execFileSync("dpkg-deb", ["--root-owner-group", "-Zxz", "-z6", "--build", stage, deb], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, SOURCE_DATE_EPOCH: String(timestamp) },
  });
  rmSync(stage, { recursive: true, force: true });
  return deb;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const wanted = process.argv.slice(2);
  const arches = wanted.length > 0 ? wanted : Object.keys(ARCHES);
  for (const arch of arches) if (!(arch in ARCHES)) throw new Error(`unknown architecture ${arch} (${Object.keys(ARCHES).join(", ")})`);
  mkdirSync(out, { recursive: true });
  for (const arch of arches) {
    const started = Date.now();
    const deb = buildDeb(arch);
    console.log(`${relative(root, deb)}: ${(statSync(deb).size / 1e6).toFixed(1)} MB, built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
