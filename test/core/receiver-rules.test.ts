import { describe, expect, it } from "vitest";
import { checkExpositionForReceiver } from "../../src/core/exposition/check.js";
import {
  OTLP_RULES,
  pushgatewayRules,
  PUSHGATEWAY_1_11_RULES,
  PUSHGATEWAY_1_11_UTF8_RULES,
  PUSHGATEWAY_STRICT_RULES,
  REMOTE_WRITE_RULES,
  strictestOf,
  TEXTFILE_RULES,
  VICTORIAMETRICS_RULES,
  type ReceiverRules,
} from "../../src/core/receiver-rules.js";

const RECEIVERS: Record<string, ReceiverRules> = {
  "pushgateway-1.5": PUSHGATEWAY_STRICT_RULES,
  "pushgateway-1.11": PUSHGATEWAY_1_11_RULES,
  "pushgateway-1.11-utf8": PUSHGATEWAY_1_11_UTF8_RULES,
  "remote-write": REMOTE_WRITE_RULES,
  victoriametrics: VICTORIAMETRICS_RULES,
  textfile: TEXTFILE_RULES,
  // Not measured: the strict rules.
  otlp: OTLP_RULES,
};
type Receiver = keyof typeof RECEIVERS;
const ALL = Object.keys(RECEIVERS) as Receiver[];
const FLOAT_COUNTS: Receiver[] = ["pushgateway-1.11", "pushgateway-1.11-utf8", "remote-write", "victoriametrics"];
const QUOTED: Receiver[] = ["pushgateway-1.11", "pushgateway-1.11-utf8", "remote-write"];
const UTF8: Receiver[] = ["pushgateway-1.11-utf8", "remote-write"];

const HISTOGRAM = (count: string) => `# TYPE h histogram\nh_bucket{le="1"} ${count}\nh_bucket{le="+Inf"} ${count}\nh_sum 1\nh_count ${count}\n`;

// Each input, the receivers that take it (measured on the real binaries; see docs/versions.md),
// and what the strict rules say it needs.
const TABLE: ReadonlyArray<readonly [what: string, input: string, takenBy: readonly Receiver[], needs: readonly string[]]> = [
  ["whole counts", HISTOGRAM("2"), ALL, []],
  ["a fractional bucket count", HISTOGRAM("0.5"), FLOAT_COUNTS, ["fractional-counts"]],
  ["a NaN summary count", '# TYPE s summary\ns{quantile="0.5"} 1\ns_sum 1\ns_count NaN\n', FLOAT_COUNTS, ["fractional-counts"]],
  ["a count beyond uint64", HISTOGRAM("1e20"), FLOAT_COUNTS, ["fractional-counts"]],
  ["a negative count", HISTOGRAM("-1"), [], []],
  ["a quoted legacy name", '"a" 1\n', QUOTED, ["quoted-names"]],
  ["a quoted legacy name in braces", '{"a"} 1\n', QUOTED, ["quoted-names"]],
  ["a quoted legacy name with labels in braces", '{"a",b="c"} 1\n', QUOTED, ["quoted-names"]],
  ["a quoted legacy label name", 'a{"b"="c"} 1\n', QUOTED, ["quoted-names"]],
  ["a UTF-8 metric and label name", '{"my.metric","http.status"="200"} 1\n', UTF8, ["utf8-names"]],
  ["a UTF-8 label name", 'm{"service.name"="x"} 1\n', UTF8, ["utf8-names"]],
  ["HELP and TYPE of a UTF-8 name", '# HELP "my.metric" Rows.\n# TYPE "my.metric" gauge\n{"my.metric"} 1\n', UTF8, ["utf8-names"]],
  ['\\" in HELP', '# HELP m say \\"hi\\"\nm 1\n', QUOTED, ["help-quote-escape"]],
  ["an unquoted name with a dot", "my.metric 1\n", [], []],
  ["one series quoted and unquoted", '{"a"} 1\na 2\n', [], ["quoted-names"]],
  ["one label quoted and unquoted", 'm{"b"="1",b="2"} 1\n', [], ["quoted-names"]],
  ["a quoted name with a backslash", '{"a\\"b"} 1\n', [], []],
  ["an empty quoted name", '{""} 1\n', [], []],
  ["a quoted reserved label name", 'm{"__x"="1"} 1\n', [], ["quoted-names"]],
];

describe("what each receiver takes (ReceiverRules)", () => {
  it.each(TABLE)("%s", (_what, input, takenBy, needs) => {
    for (const receiver of ALL) {
      const result = checkExpositionForReceiver(input, { name: "in" }, { receiver: RECEIVERS[receiver]! });
      expect("checked" in result, `${receiver} ${takenBy.includes(receiver) ? "takes" : "refuses"} it${"refused" in result ? `: ${result.refused.message}` : ""}`).toBe(takenBy.includes(receiver));
    }
    const strict = checkExpositionForReceiver(input, { name: "in" }, { receiver: PUSHGATEWAY_STRICT_RULES });
    expect("needs" in strict ? [...strict.needs] : []).toEqual(needs);
  });

  it("reads a quoted name as the name itself: its HELP, TYPE and samples are one family", () => {
    const result = checkExpositionForReceiver('# TYPE "my.metric" counter\n{"my.metric","a.b"="1"} 1\n{"my.metric","a.b"="2"} 2\n', { name: "in" }, { receiver: REMOTE_WRITE_RULES, collectSamples: true });
    expect("checked" in result && result.checked.families).toEqual([{ name: "my.metric", type: "counter", typeDeclared: true, help: undefined, sampleCount: 2 }]);
    expect("checked" in result && result.checked.samples.map((s) => [s.name, s.labels])).toEqual([
      ["my.metric", [["a.b", "1"]]],
      ["my.metric", [["a.b", "2"]]],
    ]);
  });

  it("says which gateway takes what the strict rules refuse, and the flag a 1.11 gateway needs", () => {
    const strict = checkExpositionForReceiver('{"my.metric"} 1\n', { name: "in" }, {});
    expect("refused" in strict && strict.refused.message).toContain("Pushgateway 1.11 or newer started with --push.enable-utf8-names takes it");
    const withoutFlag = checkExpositionForReceiver('{"my.metric"} 1\n', { name: "in" }, { receiver: PUSHGATEWAY_1_11_RULES });
    expect("refused" in withoutFlag && withoutFlag.refused.message).toContain("start the gateway with --push.enable-utf8-names");
    const textfile = checkExpositionForReceiver(HISTOGRAM("0.5"), { name: "in" }, { receiver: TEXTFILE_RULES });
    expect("refused" in textfile && textfile.refused.message).toContain("and node_exporter's textfile collector is not one of them");
    const textfileUtf8 = checkExpositionForReceiver('{"my.metric"} 1\n', { name: "in" }, { receiver: TEXTFILE_RULES });
    expect("refused" in textfileUtf8 && textfileUtf8.refused.message).toContain("node_exporter's textfile collector refuses it (1.11 too)");
    const vm = checkExpositionForReceiver('"a" 1\n', { name: "in" }, { receiver: VICTORIAMETRICS_RULES });
    expect("refused" in vm && vm.refused.message).toContain("pushgw sends it only to receivers known to take it, and VictoriaMetrics is not one of them");
  });
});

describe("pushgatewayRules: from what the gateway says of itself", () => {
  it.each([
    [undefined, PUSHGATEWAY_STRICT_RULES],
    [{ version: undefined, utf8Names: true }, PUSHGATEWAY_STRICT_RULES],
    [{ version: "1.5.1", utf8Names: false }, PUSHGATEWAY_STRICT_RULES],
    [{ version: "1.10.0", utf8Names: false }, PUSHGATEWAY_STRICT_RULES],
    [{ version: "1.11.2", utf8Names: false }, PUSHGATEWAY_1_11_RULES],
    [{ version: "1.11.0", utf8Names: true }, PUSHGATEWAY_1_11_UTF8_RULES],
    [{ version: "v1.12.0-rc.0", utf8Names: true }, PUSHGATEWAY_1_11_UTF8_RULES],
    [{ version: "2.0.0", utf8Names: false }, PUSHGATEWAY_1_11_RULES],
    [{ version: "tip", utf8Names: true }, PUSHGATEWAY_STRICT_RULES],
  ])("%j", (facts, rules) => {
    expect(pushgatewayRules(facts)).toBe(rules);
  });

  it("takes for several gateways only what all of them take", () => {
    expect(strictestOf([PUSHGATEWAY_1_11_UTF8_RULES, PUSHGATEWAY_1_11_UTF8_RULES])).toBe(PUSHGATEWAY_1_11_UTF8_RULES);
    expect(strictestOf([PUSHGATEWAY_1_11_UTF8_RULES, PUSHGATEWAY_1_11_RULES])).toMatchObject({ utf8Names: false, quotedNames: true, fractionalCounts: true });
    expect(strictestOf([])).toBe(PUSHGATEWAY_STRICT_RULES);
  });
});
