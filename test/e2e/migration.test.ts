import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTool } from "../helpers/prometheus.js";
import { readGroupsSorted, startPushgateway, type GatewayGroup, type RunningGateway } from "../helpers/pushgateway.js";
import { NODE } from "../helpers/run-cli.js";

/**
 * README's "Migrating from curl" table, every row run as written: a host moving from the curl
 * line to the pushgw line must land beside the groups other hosts still push with curl.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
ensureTool("curl", "curl");

interface Row {
  readonly curl: string;
  readonly pushgw: string;
}

/** The table's rows: code spans joined by <br> make one script; the first `pushgw …` span is the command. */
function migrationRows(): Row[] {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Migrating from curl"), readme.indexOf("\n## ", readme.indexOf("## Migrating from curl") + 3));
  const rows = section.split("\n").filter((line) => line.startsWith("| `"));
  return rows.map((line) => {
    const cells = line.slice(2, -2).split(/ (?<!\\)\| /);
    const spans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\\\|/g, "|"));
    return { curl: spans(cells[0]!).join("\n"), pushgw: spans(cells[1]!).find((span) => span.startsWith("pushgw "))! };
  });
}

let gw: RunningGateway;
let gwHost: string;
const work = mkdtempSync(join(tmpdir(), "pushgw-migration-"));

beforeAll(async () => {
  gw = await startPushgateway(["--web.enable-admin-api"]);
  gwHost = new URL(gw.url).host;
  // What the rows name: a metrics file and a job script.
  writeFileSync(join(work, "metrics.prom"), "# HELP rows_done Rows done.\nrows_done 42\nlast_run_seconds 1.5\n");
  writeFileSync(join(work, "backup.sh"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(work, "backup.sh"), 0o755);
});
afterAll(async () => {
  await gw?.stop();
});

/** Runs a line in sh, as a crontab would, with the gateway the README calls gw:9091. */
function shell(script: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync("sh", ["-c", script.replaceAll("gw:9091", gwHost)], {
    cwd: work,
    encoding: "utf8",
    env: { PATH: [join(root, "bin"), dirname(NODE), work, "/usr/bin", "/bin"].join(":"), PUSHGW_GATEWAY: `http://${gwHost}` },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same curl line as another host would run it: one more grouping label, so another group. */
function asAnotherHost(curl: string): string {
  return curl.replace(/(http:\/\/gw:9091\/metrics\/job\/[^\s]*)/, "$1/from/other-host");
}

/** The groups without what changes from one push to the next (push times, each family's time_stamp). */
const withoutTimes = (groups: GatewayGroup[]): Array<Record<string, unknown>> =>
  JSON.parse(JSON.stringify(groups, (key, value: unknown) => (key === "time_stamp" || key === "push_time_seconds" || key === "push_failure_time_seconds" ? undefined : value)));

describe("README: Migrating from curl, every row run as written", () => {
  const rows = migrationRows();

  it("the table has the rows this test knows how to run", () => {
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const row of rows) expect(row.curl).toMatch(/curl /);
  });

  it.each(rows.map((row) => [row.pushgw, row] as const))("%s", async (_, row) => {
    await fetch(`${gw.url}/api/v1/admin/wipe`, { method: "PUT" });
    const deleting = /curl -X DELETE/.test(row.curl);
    // Other hosts still push with curl; a DELETE row needs groups to delete first.
    const other = deleting ? `echo "m 1" | curl -fsS --data-binary @- ${/http\S+/.exec(asAnotherHost(row.curl))![0]}` : asAnotherHost(row.curl);
    expect(shell(other), other).toMatchObject({ code: 0 });
    const othersBefore = withoutTimes(await readGroupsSorted(gw.url));
    expect(othersBefore).toHaveLength(1);

    if (deleting) {
      expect(shell(`echo "m 1" | curl -fsS --data-binary @- ${/http\S+/.exec(row.curl)![0]}`)).toMatchObject({ code: 0 });
      const viaCurl = await readGroupsSorted(gw.url);
      expect(viaCurl).toHaveLength(2);
    }
    const run = shell(row.pushgw);
    expect(run, row.pushgw).toMatchObject({ code: 0, stderr: "" });
    const after = withoutTimes(await readGroupsSorted(gw.url));
    // The curl-pushed group of the other host is untouched, next to what pushgw did.
    expect(after).toEqual(expect.arrayContaining(othersBefore));
    if (deleting) {
      expect(after).toEqual(othersBefore);
    } else {
      expect(after).toHaveLength(2);
      const ours = after.find((g) => (g["labels"] as Record<string, string>)["from"] === undefined)!;
      expect(Object.keys(ours).filter((k) => k !== "labels" && k !== "last_push_successful").length).toBeGreaterThan(0);
      expect(ours["last_push_successful"]).toBe(true);
    }
  });

  it("where the curl line and the pushgw line name the same group, they leave the same metrics", async () => {
    for (const row of rows.filter((r) => !/-X DELETE|backup\.sh|-X PUT/.test(r.curl))) {
      await fetch(`${gw.url}/api/v1/admin/wipe`, { method: "PUT" });
      expect(shell(row.curl)).toMatchObject({ code: 0 });
      const byCurl = withoutTimes(await readGroupsSorted(gw.url));
      await fetch(`${gw.url}/api/v1/admin/wipe`, { method: "PUT" });
      expect(shell(row.pushgw)).toMatchObject({ code: 0, stderr: "" });
      expect(withoutTimes(await readGroupsSorted(gw.url)), row.pushgw).toEqual(byCurl);
    }
  });
});
