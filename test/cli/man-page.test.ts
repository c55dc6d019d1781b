import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildManPage } from "../../src/cli/man-page.js";
import { GatewayError, InputError, InternalError, SpooledError, UsageError } from "../../src/core/errors.js";
import { roffText } from "../../src/core/man-page.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const committed = readFileSync(join(root, "man/pushgw.1"), "utf8");

/** PUSHGW_ names in the source that are not environment variables. */
const NOT_VARIABLES = [
  "PUSHGW_VERSION", // the build's define
  "PUSHGW_TLS_MATERIAL", // an error code
];

function section(page: string, name: string): string {
  const start = page.indexOf(`\n.SH ${name}\n`);
  expect(start, name).toBeGreaterThan(0);
  const end = page.indexOf("\n.SH ", start + 1);
  return page.slice(start, end < 0 ? undefined : end);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

describe("pushgw(1)", () => {
  it("the committed man/pushgw.1 is what the command definitions give (run `npm run man` after changing flags)", () => {
    expect(committed).toBe(buildManPage(version));
  });

  it("names every command and every flag of the completion scripts", () => {
    const bash = readFileSync(join(root, "completions/pushgw.bash"), "utf8");
    const flags = new Set([...bash.matchAll(/(?<=["\s|:])--([a-z][a-z-]*)/g)].map((m) => m[1]!));
    expect(flags.size).toBeGreaterThan(30);
    for (const flag of flags) expect(committed, `--${flag}`).toContain(`\\-\\-${flag.replace(/-/g, "\\-")}\\fR`);
    for (const command of ["push", "add", "delete", "wrap", "list", "prune", "flush", "alert\\-rules", "completion"]) {
      expect(section(committed, "COMMANDS"), command).toContain(`\\fBpushgw ${command}\\fR`);
    }
  });

  it("gives every exit status the errors carry", () => {
    const exits = section(committed, "EXIT STATUS");
    for (const error of [new UsageError(""), new InputError(""), new GatewayError(""), new SpooledError(""), new InternalError("")]) {
      expect(exits, error.name).toContain(`.TP\n\\fB${error.exitCode}\\fR\n`);
    }
  });

  it("names every PUSHGW_ variable the source reads or sets", () => {
    const names = new Set(sourceFiles(join(root, "src")).flatMap((file) => [...readFileSync(file, "utf8").matchAll(/\bPUSHGW_[A-Z_]+\b/g)].map((m) => m[0])));
    for (const name of NOT_VARIABLES) names.delete(name);
    expect(names.size).toBeGreaterThan(5);
    const environment = section(committed, "ENVIRONMENT");
    for (const name of names) expect(environment, name).toContain(name);
  });

});

describe("roffText", () => {
  it.each([
    ["plain", "plain"],
    ["--max-runtime", "\\-\\-max\\-runtime"],
    ["a\\b", "a\\eb"],
    [".starts with a dot", "\\&.starts with a dot"],
    ["'starts with a quote", "\\&'starts with a quote"],
    ["one\n.two", "one\n\\&.two"],
    ["mid.dle 'quote'", "mid.dle 'quote'"],
  ])("%j → %j", (input, expected) => {
    expect(roffText(input)).toBe(expected);
  });
});
