import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ensureTool } from "../helpers/prometheus.js";
import { BIN, runCli } from "../helpers/run-cli.js";
import { typeAndTab } from "../helpers/tmux-shell.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
// The shells the scripts are tested in (installed from Debian's packages where we can).
for (const [tool, pkg] of [["bash", "bash"], ["zsh", "zsh"], ["fish", "fish"], ["tmux", "tmux"]] as const) ensureTool(tool, pkg);
const FILES = { bash: "completions/pushgw.bash", zsh: "completions/_pushgw", fish: "completions/pushgw.fish" } as const;

describe("completion scripts", () => {
  it.each(Object.entries(FILES))("the committed %s script is what `pushgw completion` prints (run `npm run completions` after changing flags)", async (shell, file) => {
    const run = await runCli(["completion", shell]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(readFileSync(`${root}/${file}`, "utf8"));
  });

  it("takes the shell from $SHELL, and refuses others", async () => {
    expect((await runCli(["completion"], { env: { SHELL: "/usr/bin/fish" } })).stdout).toBe(readFileSync(`${root}/${FILES.fish}`, "utf8"));
    const bad = await runCli(["completion"], { env: { SHELL: "/bin/tcsh" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/name the shell: bash, zsh or fish/);
  });
});

describe("in real bash", () => {
  const complete = (...words: string[]) => {
    // What bash sets before calling the function: the words, and the line up to the cursor.
    const line = words.join(" ");
    const script = `source ${FILES.bash}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; COMP_LINE='${line}'; COMP_POINT=${line.length}; _pushgw; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync("bash", ["--norc", "-c", script], { cwd: root, encoding: "utf8" }).trim().split("\n").filter(Boolean);
  };
  it.each([
    [["pushgw", "pu"], ["push"]],
    [["pushgw", "p"], ["push", "prune"]],
    [["pushgw", "push", "--ty"], ["--type"]],
    [["pushgw", "push", "--type", ""], ["gauge", "counter", "untyped"]],
    [["pushgw", "wrap", "--max"], ["--max-runtime"]],
    [["pushgw", "wrap", "--no-s"], ["--no-start-push"]],
    [["pushgw", "completion", ""], ["bash", "zsh", "fish", "--help"]],
    [["pushgw", "prune", "--o"], ["--older-than"]],
  ])("%j → %j", (words, expected) => {
    expect(complete(...words)).toEqual(expected);
  });
  it("completes commands after wrap's --", () => {
    expect(complete("pushgw", "wrap", "-j", "x", "--", "bas")).toContain("bash");
  });
});

describe("in real fish", () => {
  const complete = (line: string) =>
    execFileSync("fish", ["--no-config", "-c", `source ${FILES.fish}; complete -C '${line}'`], { cwd: root, encoding: "utf8" })
      .trim()
      .split("\n")
      .map((l) => l.split("\t")[0]);
  it.each([
    ["pushgw pu", ["push"]],
    ["pushgw push --ty", ["--type"]],
    ["pushgw push --type ", ["gauge", "counter", "untyped"]],
    ["pushgw completion ", ["bash", "zsh", "fish"]],
  ])("%j → %j", (line, expected) => {
    expect(complete(line).sort()).toEqual([...expected].sort());
  });
});

describe("in the real shells, under tmux: type, press Tab, read the screen", () => {
  // A directory to complete paths in, and a command of our own on PATH.
  const place = mkdtempSync(join(tmpdir(), "pushgw-completion-"));
  mkdirSync(join(place, "sub"));
  writeFileSync(join(place, "sub", "data.prom"), "m 1\n");
  mkdirSync(join(place, "bin"));
  writeFileSync(join(place, "bin", "zzpgw-job"), "#!/bin/sh\n", { mode: 0o755 });
  const options = { completions: join(root, "completions"), path: `${root}bin:${join(place, "bin")}:/usr/bin:/bin`, cwd: place };
  const SHELL_NAMES = ["bash", "zsh", "fish"] as const;

  // `after` is typed once Tab is done: "X" right after a "/" shows that no space was added.
  const cases: Array<[string, string, string]> = [
    ["a command", "pushgw pu", "pushgw push X"],
    ["a flag's value from its choices", "pushgw push --type c", "pushgw push --type counter X"],
    ["a flag", "pushgw wrap --max-r", "pushgw wrap --max-runtime X"],
    ["a directory after --file, no space after the slash", "pushgw push -f su", "pushgw push -f sub/X"],
    ["then a file in it", "pushgw push -f sub/da", "pushgw push -f sub/data.prom X"],
    ["the command after wrap's --", "pushgw wrap -j x -- zzpgw-j", "pushgw wrap -j x -- zzpgw-job X"],
    ["a path as the command after --, a step at a time", "pushgw wrap -j x -- /usr/loc", "pushgw wrap -j x -- /usr/local/X"],
    ["files as the wrapped command's arguments", "pushgw wrap -j x -- cat su", "pushgw wrap -j x -- cat sub/X"],
    ["a command after a global flag and its value", "pushgw -g http://gw:9091 ad", "pushgw -g http://gw:9091 add X"],
    ["a command after a global switch", "pushgw -q ad", "pushgw -q add X"],
  ];
  for (const shell of SHELL_NAMES) {
    describe(shell, () => {
      it.each(cases)(`%s: %j`, (_, line, expected) => {
        expect(typeAndTab(shell, line, { ...options, after: "X" })).toBe(expected);
      });
    });
  }
});

it("the binary used here is the packaged one", () => {
  expect(BIN.endsWith("bin/pushgw")).toBe(true);
});
