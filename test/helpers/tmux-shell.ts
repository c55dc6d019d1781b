import { execFileSync, spawnSync } from "node:child_process";

/**
 * A real interactive shell in a tmux pane: type a line, press Tab, read the screen, as a person
 * would. Each call gets a fresh session with no user configuration, the program's completion
 * script loaded and `cwd` as the working directory.
 */
export type TestShell = "bash" | "zsh" | "fish";

export interface TypeAndTabOptions {
  /** Directory holding `pushgw.bash`, `_pushgw` and `pushgw.fish`. */
  readonly completions: string;
  /** The shell's PATH; the first entry should hold `pushgw`. */
  readonly path: string;
  readonly cwd: string;
  /** Tab presses; each waits for the screen to change. */
  readonly tabs?: number;
  /** Typed after the last Tab, to show whether completion left a trailing space. */
  readonly after?: string;
}

const PROMPT = "$ ";

function startCommand(shell: TestShell, options: TypeAndTabOptions): { command: string; setup: string } {
  const env = `env -i PATH=${options.path} TERM=xterm HOME=${options.cwd}`;
  switch (shell) {
    case "bash":
      return {
        command: `${env} bash --norc --noprofile`,
        setup: `PS1='${PROMPT}'; source ${options.completions}/pushgw.bash; cd ${options.cwd}; clear`,
      };
    case "zsh":
      return {
        command: `${env} zsh -f`,
        setup: `PS1='${PROMPT}'; fpath=(${options.completions} $fpath); autoload -U compinit; compinit -u -D; cd ${options.cwd}; clear`,
      };
    case "fish":
      // No autosuggestions: their grey text would be read as typed text.
      return {
        command: `${env} fish --no-config`,
        setup: `function fish_prompt; echo -n '${PROMPT}'; end; set -g fish_autosuggestion_enabled 0; source ${options.completions}/pushgw.fish; cd ${options.cwd}; clear`,
      };
  }
}

/** Types `line`, presses Tab, types `after`; returns the prompt line as shown, without the prompt. */
export function typeAndTab(shell: TestShell, line: string, options: TypeAndTabOptions): string {
  const session = `pushgw-${shell}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  // A server of its own (-L): sessions on a shared server race its shutdown when the last one ends.
  const tmux = (...args: string[]) => execFileSync("tmux", ["-L", session, "-f", "/dev/null", ...args], { encoding: "utf8" });
  const screen = () => tmux("capture-pane", "-t", session, "-p");
  const waitFor = (predicate: (text: string) => boolean): string => {
    let text = "";
    for (let i = 0; i < 100; i++) {
      text = screen();
      if (predicate(text)) return text;
      spawnSync("sleep", ["0.05"]);
    }
    return text;
  };
  const { command, setup } = startCommand(shell, options);
  tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "40", command);
  try {
    tmux("send-keys", "-t", session, "-l", setup);
    tmux("send-keys", "-t", session, "Enter");
    waitFor((text) => text.trimEnd() === PROMPT.trimEnd());
    tmux("send-keys", "-t", session, "-l", line);
    waitFor((text) => text.includes(line));
    for (let i = 0; i < (options.tabs ?? 1); i++) {
      const before = screen();
      tmux("send-keys", "-t", session, "Tab");
      waitFor((text) => text !== before);
    }
    if (options.after) {
      const before = screen();
      tmux("send-keys", "-t", session, "-l", options.after);
      waitFor((text) => text !== before);
    }
    // Settled: the same screen twice, 200 ms apart.
    let previous = "";
    let text = screen();
    for (let i = 0; i < 25 && text !== previous; i++) {
      spawnSync("sleep", ["0.2"]);
      previous = text;
      text = screen();
    }
    const first = text.split("\n")[0]!.trimEnd();
    return first.startsWith(PROMPT) ? first.slice(PROMPT.length) : first;
  } finally {
    tmux("kill-server");
  }
}
