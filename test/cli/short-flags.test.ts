import { describe, expect, it } from "vitest";
import { splitAttachedValues } from "../../src/cli/short-flags.js";

describe("splitAttachedValues: a value attached to a short flag, read as getopt reads it", () => {
  it.each([
    [["-ihost1"], ["-i", "host1"]],
    [["-qjbackup"], ["-q", "-j", "backup"]],
    [["-kqvgvalue"], ["-kqv", "-g", "value"]],
    [["-HAuthorization: Bearer t"], ["-H", "Authorization: Bearer t"]],
    [["-lteam=ops"], ["-l", "team=ops"]],
    // Left as typed, for yargs:
    [["-qv"], ["-qv"]],
    [["-qj", "backup"], ["-qj", "backup"]],
    [["-j", "-x"], ["-j", "-x"]],
    [["-l=team=ops"], ["-l=team=ops"]],
    [["-qxjbackup"], ["-qxjbackup"]],
    [["--job=-ihost"], ["--job=-ihost"]],
    [["-"], ["-"]],
    [["wrap", "--", "ls", "-ihost1"], ["wrap", "--", "ls", "-ihost1"]],
    // The value of a flag that takes one is never split, whatever it looks like.
    [["-H", "-ifoo: x", "-ihost1"], ["-H", "-ifoo: x", "-i", "host1"]],
    [["--header", "-ifoo: x"], ["--header", "-ifoo: x"]],
    [["--help-text", "-qjust a dash"], ["--help-text", "-qjust a dash"]],
    [["--helpText", "-qjust"], ["--helpText", "-qjust"]],
    [["--header=x: y", "-ihost1"], ["--header=x: y", "-i", "host1"]],
    [["-q", "-ihost1"], ["-q", "-i", "host1"]],
    // wrap's options end at the command; a -- is put before it for yargs.
    [["wrap", "-j", "x", "ls", "-ihost1"], ["wrap", "-j", "x", "--", "ls", "-ihost1"]],
    [["-j", "x", "wrap", "-qj", "y", "job", "--", "z"], ["-j", "x", "wrap", "-qj", "y", "--", "job", "--", "z"]],
    [["wrap", "--lock", "job"], ["wrap", "--lock", "job"]],
    [["wrap", "--lock", "-q", "job"], ["wrap", "--lock", "-q", "--", "job"]],
    // push and add: METRIC arguments go after --, in order.
    [["add", "a=1", "-j", "x", "b=2", "--", "-c=3"], ["add", "-j", "x", "--", "a=1", "b=2", "-c=3"]],
    [["push", "-j", "x"], ["push", "-j", "x"]],
    // A word that starts with "-" is no flag's value (as yargs reads it), but may take the next.
    [["add", "--instance", "-l", "a=b", "m=1"], ["add", "--instance", "-l", "a=b", "--", "m=1"]],
  ])("%j -> %j", (argv, words) => {
    expect(splitAttachedValues(argv)).toEqual(words);
  });
});
