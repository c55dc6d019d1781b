import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition, parseSampleValue } from "../../src/core/exposition.js";
import { buildGroupingPath, type GroupingKey } from "../../src/core/grouping-key.js";
import { readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { expositionLike } from "../helpers/generators.js";

let gw: RunningGateway;

const GROUPING = ["job", "g", "instance"];

/** One sample as a comparable line; label order, -0 and NaN made canonical. */
function sampleKey(name: string, allLabels: ReadonlyArray<readonly [string, string]>, value: number): string {
  // The grouping key's labels are the gateway's to set, and an empty label is no label.
  const labels = allLabels.filter(([k, v]) => v !== "" && !GROUPING.includes(k));
  const shown = Number.isNaN(value) ? "NaN" : Object.is(value, -0) ? "0" : String(value);
  return `${name}{${[...labels].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}} ${shown}`;
}
beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  await gw?.stop();
});

describe("against the real gateway", () => {
  it("what the parser accepts, the gateway accepts too, and stores as parsed (a sample of generated inputs)", async () => {
    let accepted = 0;
    let repaired = 0;
    await fc.assert(
      fc.asyncProperty(expositionLike(), fc.nat(), async (text, n) => {
        let parsed: ReturnType<typeof parseExposition>;
        try {
          parsed = parseExposition(text, { name: "generated" }, { groupingLabels: new Map([["job", "prop"], ["g", String(n)]]), collectSamples: true });
        } catch {
          return;
        }
        accepted++;
        if (parsed.text !== text && parsed.text !== `${text}\n`) repaired++;
        // Each input alone in a fresh group, deleted after: nothing carries over between inputs.
        // What pushgw sends is the parsed text: repaired (trailing blanks) where the input needed it.
        const url = `${gw.url}/metrics/job/prop/g/${n}`;
        const response = await fetch(url, { method: "PUT", body: parsed.text });
        const body = await response.text();
        const group = (await readGroups(gw.url)).find((g) => g.labels["job"] === "prop" && g.labels["g"] === String(n));
        // A push the gateway takes can still break its /metrics page for everyone: pushgw must refuse those.
        const metrics = await fetch(`${gw.url}/metrics`);
        const metricsAnswer = metrics.status === 200 ? "" : await metrics.text();
        await fetch(url, { method: "DELETE" });
        expect(`${response.status} ${body}`, JSON.stringify(text)).toMatch(/^200 /);
        expect(`${metrics.status} ${metricsAnswer}`, JSON.stringify(text)).toMatch(/^200 /);
        // Landed as parsed: every sample of the untyped, gauge and counter families.
        const plain = [...parsed.families.values()].filter((f) => f.sampleCount > 0 && f.type !== "histogram" && f.type !== "summary");
        const expected = parsed.samples.filter((s) => plain.some((f) => f.name === s.name)).map((s) => sampleKey(s.name, s.labels, s.value)).sort();
        const landed = plain
          .flatMap((f) => ((group?.[f.name] as { metrics?: Array<{ labels: Record<string, string>; value: string }> } | undefined)?.metrics ?? []).map((m) => [f.name, m] as const))
          .map(([name, m]) => sampleKey(name, Object.entries(m.labels), parseSampleValue(m.value)))
          .sort();
        expect(landed, JSON.stringify(text)).toEqual(expected);
      }),
      // About 6% of generated inputs are valid (17 to 37 of 400 over 60 seeds), and only those
      // reach the gateway: 1,000 runs give about 65 (standard deviation about 8), so the floor
      // below never fails by chance, and rejected inputs cost next to nothing.
      { numRuns: Number(process.env["PROPERTY_RUNS"] ?? 1000) },
    );
    expect(accepted).toBeGreaterThan(20);
    // The generator reaches the repairs: trailing blanks after values and types.
    expect(repaired).toBeGreaterThan(0);
  }, 180_000);

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
