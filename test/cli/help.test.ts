import { describe, expect, it } from "vitest";
import type { App } from "../../src/cli/app.js";
import { buildCli, commandModules } from "../../src/cli/build-cli.js";
import { isPushgwCommand } from "../../src/cli/command.js";
import { COMMAND_NAMES, FLAGS, flagsOf, type CommandName } from "../../src/cli/flags.js";

const app = new Proxy({}, { get: () => async () => undefined }) as App;
const cli = { env: {}, hostname: "h" };

/** What `pushgw … --help` prints on a terminal this wide. */
function help(argv: string[], columns = 80): Promise<string> {
  return new Promise((resolve, reject) => {
    buildCli(app, { ...cli, argv, columns }, "1.2.3").parse(argv, {}, (error, _, output) => (error ? reject(error) : resolve(output)));
  });
}

/** The flags a help text lists, by their long names. */
function listedFlags(text: string): string[] {
  return [...text.matchAll(/^ {2}(?:-\w, | {4})--([\w-]+)/gm)].map((m) => m[1]!).sort();
}

const definitions = commandModules(app, cli).filter(isPushgwCommand).map((m) => m.definition);

describe("each command's --help", () => {
  it.each(COMMAND_NAMES.map((c) => [c]))("%s lists exactly the flags that work there", async (command) => {
    const shown = flagsOf(command).filter((name) => !(FLAGS[name] as { hiddenIn?: readonly CommandName[] }).hiddenIn?.includes(command));
    expect(listedFlags(await help([command, "--help"]))).toEqual([...shown, "help", "version"].sort());
  });

  /** The help line of one flag, its wrapped continuation lines joined. */
  const flagHelp = (text: string, long: string): string => {
    const at = text.search(new RegExp(`^ {2}(?:-\\w, | {4})--${long}\\b`, "m"));
    const rest = text.slice(at).split("\n");
    const lines = [rest[0]!, ...rest.slice(1).filter((_, i, all) => all.slice(0, i + 1).every((l) => /^ {10,}\S/.test(l)))];
    return lines.map((l) => l.trim()).join(" ").replace(/\s+/g, " ");
  };

  it.each<[CommandName, string]>([
    ["push", "required"],
    ["add", "required"],
    ["wrap", "required"],
    ["delete", "required unless --match"],
  ])("%s marks -j %s", async (command, mark) => {
    expect(flagHelp(await help([command, "--help"]), "job")).toMatch(new RegExp(`job name \\[${mark}; env PUSHGW_JOB\\]`));
  });

  it("--type lists its choices", async () => {
    expect(flagHelp(await help(["add", "--help"]), "type")).toContain("[one of gauge, counter, untyped]");
  });

  it.each<[CommandName, RegExp]>([
    ["push", /repeat to push to several/],
    ["wrap", /repeat to push the outcome to several/],
    ["delete", /repeat to delete from several/],
    ["list", /the Pushgateway to list .*repeat to list several, each in turn/],
    ["prune", /the Pushgateway to prune .*repeat to prune several, each in turn/],
    ["doctor", /the Pushgateway to examine .*repeat to examine several, each in turn/],
    ["flush", /deliver only to these gateways with this run's credentials/],
  ])("%s describes -g as it applies there", async (command, wording) => {
    expect(flagHelp(await help([command, "--help"]), "gateway")).toMatch(wording);
  });

  it.each([["list"], ["prune"], ["delete"], ["flush"]])("%s is not headed \"Where to push:\"", async (command) => {
    const text = await help([command, "--help"]);
    expect(text).not.toContain("Where to push:");
    expect(text).toContain("Gateway:");
  });

  it.each([["list"], ["prune"]])("%s shows no --spool or --gzip: they do nothing there; --target and --textfile-dir it shows (the textfile directory's groups)", async (command) => {
    const text = await help([command, "--help"]);
    for (const flag of ["--spool", "--gzip"]) expect(text).not.toContain(flag);
    for (const flag of ["--target", "--textfile-dir"]) expect(text).toContain(flag);
  });

  it("push groups its flags: the metrics, the grouping key, where to push, auth, output", async () => {
    const text = await help(["push", "--help"]);
    const order = ["Positionals:", "Metrics:", "Grouping key:", "Where to push:", "Auth and TLS:", "Output:", "Options:", "Examples:"].map((h) => text.indexOf(`\n${h}\n`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("numbers and durations show as what they are, not as quoted strings", async () => {
    const text = await help(["push", "--help"]);
    expect(text).toMatch(/--retries .*\n? *.*\[default 3\]/);
    expect(text).toMatch(/--timeout +time limit per attempt \[default 10s\]/);
    expect(text).not.toContain("[string]");
    expect(text).not.toMatch(/default: "/);
  });

  it.each(COMMAND_NAMES.map((c) => [c]))("%s fits 80 columns, each example whole on its line", async (command) => {
    const text = await help([command, "--help"], 80);
    for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80);
    const definition = definitions.find((d) => d.name === command)!;
    for (const [example, what] of definition.examples) {
      expect(text.split("\n")).toContain(`  ${example.replace("$0", "pushgw")}`);
      expect(text.split("\n")).toContain(`      ${what}`);
    }
  });

  it("the top-level help lists every command", async () => {
    const text = await help(["--help"]);
    for (const command of COMMAND_NAMES) expect(text).toMatch(new RegExp(`^ {2}pushgw ${command}\\b`, "m"));
  });
});
