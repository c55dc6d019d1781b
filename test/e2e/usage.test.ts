import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGroupsSorted, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";

let gw: RunningGateway;
beforeAll(async () => {
  gw = await startPushgateway();
  // Something to lose: a bad command line must leave it alone.
  await fetch(`${gw.url}/metrics/job/keep`, { method: "PUT", body: "m 1\n" });
});
afterAll(async () => {
  await gw?.stop();
});

describe("a mistake on the command line: one line saying what is wrong, one hint, exit 2, nothing sent", () => {
  it.each([
    [["add", "-j", "x", "--dry-ru", "m=1"], "add: unknown flag --dry-ru", "did you mean --dry-run?"],
    [["add", "-j", "x", "--type", "gague", "m=1"], '--type: expected gauge, counter or untyped, got "gague"', "did you mean --type gauge?"],
    [["prune", "--older-then", "7d", "--yes"], "prune: unknown flag --older-then", "did you mean --older-than?"],
    [["delete", "-j", "x", "--no-instanc"], "delete: unknown flag --no-instanc", "did you mean --no-instance?"],
    [["show", "-j", "x"], "unknown command show", "the commands: push, add, delete, wrap, list, prune, flush, doctor, alert-rules, completion and cron"],
    [["list", "--match", "job=~("], '--match "job=~(": "(" is not a valid regular expression (unterminated group)', undefined],
    [["add", "--json"], "add: unknown flag --json", "--json is a flag of list, doctor and cron; see pushgw add --help for add's"],
    [["add", "-j", "x", "bad name=2"], 'argument 1 (bad name=2): invalid metric name "bad name" (allowed: [a-zA-Z_:][a-zA-Z0-9_:]*, or for receivers that take UTF-8 names any text without blanks, quotes, braces or =)', undefined],
    [["add", "-j"], "--job needs a value", "see pushgw add --help"],
  ])("%j", async (argv, message, hint) => {
    const run = await runCli([...argv, "-g", gw.url]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    const lines = run.stderr.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`pushgw: ${message}`);
    expect(lines[1]).toMatch(/^hint: /);
    if (hint !== undefined) expect(lines[1]).toBe(`hint: ${hint}`);
    expect(lines[2]).toBe("");
    expect((await readGroupsSorted(gw.url)).map((g) => g.labels["job"])).toEqual(["keep"]);
  });
});

describe("a short flag with its value attached reads as getopt reads it (-ihost1 is -i host1)", () => {
  // yargs alone reads each letter as a flag: -ihost1 was -i -h -o -s -t -1, and the -h printed
  // the help and exited 0, pushing nothing and, for wrap, never running the job.
  it("wrap -ihost1 -jattached runs the job and pushes into {job=attached, instance=host1}", async () => {
    const run = await runCli(["wrap", `-g${gw.url}`, "-ihost1", "-jattached", "-qlteam=ops", "--", "echo", "ran"]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("ran\n");
    expect(run.code).toBe(0);
    const groups = await readGroupsSorted(gw.url);
    expect(groups.map((g) => g.labels)).toContainEqual({ job: "attached", instance: "host1", team: "ops" });
  });

  it("add -HAuthorization:… sends the header, not the help", async () => {
    const run = await runCli(["add", "-g", gw.url, "-HAuthorization: Bearer t0k", "-jheader", "--no-instance", "m=1"]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("");
    expect(run.code).toBe(0);
    expect((await readGroupsSorted(gw.url)).map((g) => g.labels["job"])).toContain("header");
  });
});

describe("a variable of blanks only is as if it were not set", () => {
  // It was read as a list of no gateways: add and delete sent nothing and exited 0, silently.
  it.each([["add", "m=1"], ["delete"]])("PUSHGW_GATEWAY='  ' %s goes to the default gateway", async (command, ...rest) => {
    const run = await runCli([command, "--dry-run", "-j", "blank", ...rest], { env: { PUSHGW_GATEWAY: "  " } });
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^(POST|DELETE) http:\/\/localhost:9091\/metrics\/job\/blank\//);
    expect(run.code).toBe(0);
  });
});
