import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ensureTool } from "../helpers/prometheus.js";

/** The committed man page as man(1) shows it: rendered by the real groff (test/cli/man-page.test.ts checks its text). */
const root = fileURLToPath(new URL("../../", import.meta.url));
ensureTool("groff", "groff-base");

describe("man page", () => {
  it("renders with groff, without a warning", () => {
    const run = spawnSync("groff", ["-man", "-Tutf8", "-ww", "-z", join(root, "man/pushgw.1")], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const text = execFileSync("groff", ["-man", "-Tascii", "-P-c", "-P-b", "-P-u", join(root, "man/pushgw.1")], { encoding: "utf8" }).replace(/ +/g, " ");
    expect(text).toMatch(/^NAME\n pushgw - push metrics/m);
    expect(text).toContain("pushgw wrap [OPTIONS] -- COMMAND [ARG...]");
    expect(text).toMatch(/30 2 \* \* \* +pushgw wrap --job backup/);
  });
});
