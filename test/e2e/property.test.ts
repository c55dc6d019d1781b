import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition } from "../../src/core/exposition.js";
import { buildGroupingPath, type GroupingKey } from "../../src/core/grouping-key.js";
import { readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { expositionLike } from "../helpers/generators.js";

let gw: RunningGateway;
beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  await gw?.stop();
});

describe("against the real gateway", () => {
  it("what the parser accepts, the gateway accepts too (a sample of generated inputs)", async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(expositionLike(), fc.nat(), async (text, n) => {
        try {
          parseExposition(text, { name: "generated" }, { groupingLabels: new Map([["job", "prop"], ["g", String(n)]]) });
        } catch {
          return;
        }
        accepted++;
        // Each sample alone in a fresh group, deleted after: nothing carries over between samples.
        const url = `${gw.url}/metrics/job/prop/g/${n}`;
        const response = await fetch(url, { method: "PUT", body: text });
        const body = await response.text();
        await fetch(url, { method: "DELETE" });
        expect(`${response.status} ${body}`, text).toMatch(/^200 /);
      }),
      { numRuns: Number(process.env["PROPERTY_RUNS"] ?? 400) },
    );
    expect(accepted).toBeGreaterThan(20);
  }, 120_000);

  it("the grouping-key encoder carries any Unicode job and value exactly through the gateway", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", minLength: 1, maxLength: 12 }), fc.string({ unit: "binary", maxLength: 12 }), async (job, value) => {
        const key: GroupingKey = { job, labels: [["v", value], ["tag", "prop"]] };
        const response = await fetch(gw.url + buildGroupingPath(key), { method: "PUT", body: "# TYPE unicode_probe gauge\nunicode_probe 1\n" });
        expect(response.status, JSON.stringify({ job, value })).toBe(200);
        const groups = await readGroups(gw.url);
        const found = groups.find((g) => g.labels["job"] === job && g.labels["tag"] === "prop");
        expect(found?.labels).toEqual(value === "" ? { job, v: "", tag: "prop" } : { job, v: value, tag: "prop" });
        await fetch(gw.url + buildGroupingPath(key), { method: "DELETE" });
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});
