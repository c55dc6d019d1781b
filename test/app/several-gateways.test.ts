import { describe, expect, it } from "vitest";
import { eachGateway } from "../../src/app/each-gateway.js";
import type { HttpRequest, TransportOptions } from "../../src/app/ports.js";
import { removeGroups } from "../../src/app/remove-groups.js";
import { DEFAULT_RETRY_POLICY, parseGatewayUrl } from "../../src/core/delivery.js";
import { GatewayError, InputError, type ToolError } from "../../src/core/errors.js";
import { fakeWorld, reply } from "../helpers/fakes.js";

const A = "http://gw-a:9091";
const B = "http://gw-b:9091";

describe("eachGateway", () => {
  const refused = new GatewayError(`GET ${A}/api/v1/metrics: could not connect`, { hint: "is it running?" });
  const unnamed = new InputError("something without its gateway", { hint: "h" });
  it.each<[string, readonly string[], Record<string, number | ToolError>, { status: number; headers: string[]; errors: string[] }]>([
    ["several, all answer", [A, B], { [A]: 0, [B]: 0 }, { status: 0, headers: [`gateway ${A}:`, `gateway ${B}:`], errors: [] }],
    ["the worst status wins", [A, B], { [A]: 1, [B]: 0 }, { status: 1, headers: [`gateway ${A}:`, `gateway ${B}:`], errors: [] }],
    ["a failure naming its gateway is kept as it is, the next is still done", [A, B], { [A]: refused, [B]: 0 }, { status: 1, headers: [`gateway ${A}:`, `gateway ${B}:`], errors: [refused.message] }],
    ["a failure that does not name it gets its URL", [A, B], { [A]: 0, [B]: unnamed }, { status: 2, headers: [`gateway ${A}:`, `gateway ${B}:`], errors: [`${B}: something without its gateway`] }],
    ["one gateway: no header", [A], { [A]: 0 }, { status: 0, headers: [], errors: [] }],
  ])("%s", async (_, baseUrls, outcomes, expected) => {
    const world = fakeWorld([]);
    const done: string[] = [];
    const headers: string[] = [];
    const status = await eachGateway(
      baseUrls,
      world.deps,
      async (baseUrl) => {
        done.push(baseUrl);
        const outcome = outcomes[baseUrl]!;
        if (typeof outcome !== "number") throw outcome;
        return outcome;
      },
      (line) => headers.push(line),
    );
    expect({ status, headers, errors: world.printed.error.map((e) => e.message) }).toEqual(expected);
    expect(done).toEqual(baseUrls);
  });

  it("keeps the hint and the kind of a relabelled failure", async () => {
    const world = fakeWorld([]);
    await eachGateway([A, B], world.deps, async () => {
      throw unnamed;
    });
    expect(world.printed.error.map((e) => [e.constructor, e.hint, e.exitCode])).toEqual([
      [InputError, "h", 2],
      [InputError, "h", 2],
    ]);
  });

  it("one gateway: its failure ends the command unchanged", async () => {
    await expect(eachGateway([A], fakeWorld([]).deps, async () => Promise.reject(refused))).rejects.toBe(refused);
  });

  it("a bug is no gateway's failure: it ends the command", async () => {
    const bug = new TypeError("x is undefined");
    const done: string[] = [];
    const run = eachGateway([A, B], fakeWorld([]).deps, async (baseUrl) => {
      done.push(baseUrl);
      throw bug;
    });
    await expect(run).rejects.toBe(bug);
    expect(done).toEqual([A]);
  });
});

describe("prune with two gateways on a terminal", () => {
  /** Two gateways of one group each, as their JSON API shows them; DELETE removes it. */
  function twoGateways() {
    const held = new Map([
      [A, ["backup"]],
      [B, ["backup"]],
    ]);
    const api = (jobs: string[]) =>
      JSON.stringify({
        status: "success",
        data: jobs.map((job) => ({
          labels: { job },
          last_push_successful: true,
          push_time_seconds: { type: "GAUGE", metrics: [{ labels: { job, instance: "" }, value: "1700000000" }] },
          push_failure_time_seconds: { type: "GAUGE", metrics: [{ labels: { job, instance: "" }, value: "0" }] },
        })),
      });
    return {
      held,
      answer: (request: HttpRequest) => {
        const url = new URL(request.url);
        const jobs = held.get(url.origin)!;
        if (request.method === "GET" && url.pathname === "/api/v1/metrics") return reply(200, api(jobs));
        if (request.method === "DELETE") {
          held.set(url.origin, jobs.filter((job) => url.pathname !== `/metrics/job/${job}`));
          return reply(202);
        }
        return reply(404);
      },
    };
  }
  const transport: TransportOptions = { gateways: [A, B].map(parseGatewayUrl), timeoutMs: 100, retry: { ...DEFAULT_RETRY_POLICY, retries: 0 }, headers: {} };

  it("lists and asks per gateway, and deletes only where the answer was yes", async () => {
    const gateways = twoGateways();
    const questions: string[] = [];
    const answers = [false, true];
    const world = fakeWorld(gateways.answer, {
      stdinIsTerminal: true,
      confirm: async (question) => {
        questions.push(question);
        return answers.shift()!;
      },
    });
    const status = await removeGroups({ command: "prune", transport, matchers: [], olderThanMs: 0, dryRun: false, yes: false }, world.deps);
    expect(status).toBe(0);
    expect(questions).toEqual([`Delete 1 group(s) from ${A}?`, `Delete 1 group(s) from ${B}?`]);
    expect(world.printed.info.filter((line) => /^(gateway|delete|nothing|prune)/.test(line)).map((line) => line.replace(/ {2}last push .*/, ""))).toEqual([
      `gateway ${A}:`,
      `delete {job="backup"}`,
      "nothing deleted",
      `gateway ${B}:`,
      `delete {job="backup"}`,
      "prune: deleted 1 group(s)",
    ]);
    expect(Object.fromEntries(gateways.held)).toEqual({ [A]: ["backup"], [B]: [] });
  });
});
