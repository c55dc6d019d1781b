import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ensureTool } from "../helpers/prometheus.js";
import { BIN, runCli } from "../helpers/run-cli.js";

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
    const script = `source ${FILES.bash}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _pushgw; printf '%s\\n' "\${COMPREPLY[@]}"`;
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

describe("in real zsh (in tmux)", () => {
  function typeAndComplete(line: string, tabs: number): string {
    const session = `pushgw-zsh-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const tmux = (...args: string[]) => execFileSync("tmux", ["-f", "/dev/null", ...args], { encoding: "utf8" });
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", `env -i PATH=${root}bin:/usr/bin:/bin TERM=xterm zsh -f`);
    try {
      const waitFor = (predicate: (screen: string) => boolean): string => {
        let screen = "";
        for (let i = 0; i < 50; i++) {
          screen = tmux("capture-pane", "-t", session, "-p");
          if (predicate(screen)) return screen;
          spawnSync("sleep", ["0.1"]);
        }
        return screen;
      };
      tmux("send-keys", "-t", session, `PS1='%% '; fpath=(${root}completions $fpath); autoload -U compinit; compinit -u -D; clear`, "Enter");
      waitFor((s) => s.trim() === "%");
      tmux("send-keys", "-t", session, line);
      for (let i = 0; i < tabs; i++) {
        const before = tmux("capture-pane", "-t", session, "-p");
        tmux("send-keys", "-t", session, "Tab");
        waitFor((s) => s !== before);
      }
      // Settled: the same screen twice, 200 ms apart.
      let previous = "";
      let screen = tmux("capture-pane", "-t", session, "-p");
      for (let i = 0; i < 25 && screen !== previous; i++) {
        spawnSync("sleep", ["0.2"]);
        previous = screen;
        screen = tmux("capture-pane", "-t", session, "-p");
      }
      return screen.split("\n")[0]!.trimEnd();
    } finally {
      tmux("kill-session", "-t", session);
    }
  }

  it("completes a command", () => {
    expect(typeAndComplete("pushgw pu", 1)).toBe("% pushgw push");
  });
  it("completes a flag and its value", () => {
    expect(typeAndComplete("pushgw push --type c", 1)).toBe("% pushgw push --type counter");
    expect(typeAndComplete("pushgw wrap --max-r", 1)).toBe("% pushgw wrap --max-runtime");
  });
});

it("the binary used here is the packaged one", () => {
  expect(BIN.endsWith("bin/pushgw")).toBe(true);
});
