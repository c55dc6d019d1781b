import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { decodeUtf8, MAX_INPUT_BYTES, parseExposition } from "../../src/core/exposition.js";
import { checkExposition } from "../../src/core/exposition/check.js";
import { GATEWAY_RULES, type Rule } from "../../src/core/exposition/rules.js";
import { metricArgumentsToExposition } from "../../src/core/metric-args.js";
import { REMOTE_WRITE_RULES } from "../../src/core/receiver-rules.js";

const dir = new URL("../fixtures/exposition/", import.meta.url);
const files = (sub: string) => readdirSync(new URL(sub, dir)).filter((f) => f.endsWith(".prom")).sort();
const load = (sub: string, name: string) => {
  const bytes = readFileSync(new URL(`${sub}/${name}`, dir));
  return parseExposition(decodeUtf8(bytes, { name }), { name });
};

describe("parseExposition: valid fixtures", () => {
  it.each(files("valid"))("%s is accepted", (name) => {
    const parsed = load("valid", name);
    expect(parsed.text === "" || parsed.text.endsWith("\n")).toBe(true);
    expect(parsed.text).not.toContain("\r");
  });

  it("counts families and samples, following _bucket/_sum/_count into their family", () => {
    const parsed = load("valid", "histogram.prom");
    expect([...parsed.families.keys()]).toEqual(["request_seconds"]);
    expect(parsed.families.get("request_seconds")).toMatchObject({ type: "histogram", sampleCount: 5 });
    const typed = load("valid", "typed-help.prom");
    expect(typed.families.get("rows_total")).toMatchObject({ type: "counter", help: "Rows copied,\\n with an escaped \\\\ backslash.", sampleCount: 2 });
  });

  it("repairs CRLF, a missing final newline and a BOM, and changes nothing else", () => {
    expect(parseExposition("# TYPE m gauge\r\nm 1\r\nn 2", { name: "x" }).text).toBe("# TYPE m gauge\nm 1\nn 2\n");
    expect(parseExposition("\ufeffm 1\n", { name: "x" }).text).toBe("m 1\n");
    const original = '# HELP m  two  spaces\nm{a="b"}   1\n';
    expect(parseExposition(original, { name: "x" }).text).toBe(original);
  });

  it.each([
    ["m 1 \n", "m 1\n"],
    ["m 1\t \t\nn 2\n", "m 1\nn 2\n"],
    ['m{a="b "} 1  \n', 'm{a="b "} 1\n'],
    ["# TYPE m gauge \nm 1\n", "# TYPE m gauge\nm 1\n"],
    ["# TYPE m gauge\t\r\nm 1 \r\n", "# TYPE m gauge\nm 1\n"],
    ["  m 1\n", "  m 1\n"],
    // HELP text runs to the line's end: the gateway keeps its trailing blanks, and so does pushgw.
    ["# HELP m text  \nm 1\n", "# HELP m text  \nm 1\n"],
    ["# a comment \nm 1\n", "# a comment \nm 1\n"],
    ["m 1 ", "m 1\n"],
  ])("repairs trailing blanks after a value or a type (the gateway refuses them): %j", (input, sent) => {
    expect(parseExposition(input, { name: "x" }).text).toBe(sent);
  });
});

describe("parseExposition: invalid fixtures", () => {
  it.each(files("invalid"))("%s is refused where its first line says", (name) => {
    const bytes = readFileSync(new URL(`invalid/${name}`, dir));
    const expectLine = /^# expect: (\d+): (.*)$/m.exec(bytes.toString("utf8"));
    expect(expectLine, `${name} needs a "# expect: LINE: text" first line`).not.toBeNull();
    const [, line, text] = expectLine!;
    let error: unknown;
    try {
      load("invalid", name);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    const message = (error as Error).message;
    expect(message.split("\n")[0]).toContain(`${name}:${line}: `);
    expect(message).toContain(text);
  });

  // Which part refuses each fixture: the rule its `# rule:` line names, alone (every other rule
  // off), or, without such a line, the scanner with no rule at all. A rule that stops refusing
  // what it is for, or a check that moves between the scanner and a rule, shows here.
  const decodable = files("invalid").filter((name) => !/^(invalid|surrogate|truncated)-utf8\.prom$/.test(name));
  it.each(decodable)("%s is refused by the part its # rule: line names (the scanner when none)", (name) => {
    const bytes = readFileSync(new URL(`invalid/${name}`, dir));
    const text = decodeUtf8(bytes, { name });
    const ruleName = /^# rule: (\S+)$/m.exec(text)?.[1];
    const refusedWith = (rules: readonly Rule[]) => {
      try {
        checkExposition(text, { name }, {}, rules);
        return false;
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        return true;
      }
    };
    if (ruleName === undefined) {
      expect(refusedWith([]), "the scanner alone refuses it").toBe(true);
      return;
    }
    const rule = GATEWAY_RULES.find((candidate) => candidate.ruleName === ruleName);
    expect(rule, `${ruleName} is one of GATEWAY_RULES`).toBeDefined();
    expect(refusedWith([]), "the scanner alone accepts it").toBe(false);
    expect(refusedWith([rule!]), `${ruleName} alone refuses it`).toBe(true);
    expect(refusedWith(GATEWAY_RULES.filter((other) => other !== rule)), "every other rule together accepts it").toBe(false);
  });

  it("every rule that needs no grouping key or owned names has a fixture", () => {
    const named = new Set(decodable.map((name) => /^# rule: (\S+)$/m.exec(readFileSync(new URL(`invalid/${name}`, dir), "utf8"))?.[1]));
    const needOptions = new Set(["owned-metric-names", "grouping-labels-kept"]);
    expect(GATEWAY_RULES.map((rule) => rule.ruleName).filter((ruleName) => !needOptions.has(ruleName) && !named.has(ruleName))).toEqual([]);
  });

  it("reports several problems at once, each with its line", () => {
    const run = () => parseExposition("a 1 2\nb x\nc 1\nd{=} 1\n", { name: "m.prom" });
    expect(run).toThrow(/m\.prom:1: .*timestamp[\s\S]*m\.prom:2: .*not a number[\s\S]*m\.prom:4: /);
  });

  it("stops listing after ten problems", () => {
    const text = Array.from({ length: 25 }, (_, i) => `bad-${i} 1`).join("\n");
    expect(() => parseExposition(text, { name: "f" })).toThrow(/and 15 more problem/);
  });
});

describe("parseExposition: grouping labels and owned names", () => {
  const groupingLabels = new Map([
    ["job", "backup"],
    ["instance", "db1"],
  ]);

  it("refuses a body label the grouping key would silently overwrite", () => {
    expect(() => parseExposition('m{job="other"} 1\n', { name: "f" }, { groupingLabels })).toThrow(/job="other" would be overwritten by the grouping key's job="backup"/);
    expect(() => parseExposition('m{instance="x"} 1\n', { name: "f" }, { groupingLabels })).toThrow(/overwritten/);
  });

  it("accepts a body label equal to the grouping key's, and labels the key does not have", () => {
    expect(parseExposition('m{job="backup",env="prod"} 1\n', { name: "f" }, { groupingLabels }).sampleCount).toBe(1);
  });

  it.each([
    ['m{job="backup"} 1\nm 2\n', groupingLabels],
    ['m 1\nm{instance="db1",a="1"} 2\nm{a="1"} 3\n', groupingLabels],
    ['m{job="backup",instance=""} 1\nm 2\n', new Map([["job", "backup"]])],
  ])("refuses a series given twice as the gateway stores it, with the grouping key's labels set: %j", (text, labels) => {
    expect(() => parseExposition(text, { name: "f" }, { groupingLabels: labels })).toThrow(/is given twice \(as the gateway stores it/);
  });

  it("keeps an instance label apart from the series without one when the key has no instance", () => {
    expect(parseExposition('m{instance="x"} 1\nm 2\n', { name: "f" }, { groupingLabels: new Map([["job", "backup"]]) }).sampleCount).toBe(2);
  });

  it("refuses families someone else owns", () => {
    const reservedNames = new Map([["job_success", "pushed by wrap itself"]]);
    expect(() => parseExposition("job_success 1\n", { name: "f" }, { reservedNames })).toThrow(/"job_success" is pushed by wrap itself/);
  });
});

describe("metricArgumentsToExposition", () => {
  const parse = (args: string[], type?: "gauge" | "counter" | "untyped", help?: string) => {
    const generated = metricArgumentsToExposition(args, type, help);
    return parseExposition(generated.text, generated.source);
  };

  it.each([
    // No --type: no TYPE line, exactly what `echo 'm 1' | curl --data-binary @-` sends.
    [["m=1"], undefined, undefined, "m 1\n"],
    [["m=NaN", "n=-Inf"], undefined, undefined, "m NaN\nn -Inf\n"],
    [["m=1"], undefined, "Rows.", "# HELP m Rows.\nm 1\n"],
    [["m=1"], "gauge", undefined, "# TYPE m gauge\nm 1\n"],
    [["m=NaN", "n=-Inf"], "gauge", undefined, "# TYPE m gauge\nm NaN\n# TYPE n gauge\nn -Inf\n"],
    [['m{a="x=y"}=2', 'm{a="z"}=3'], "counter", "Rows.\nDone \\ ok", '# HELP m Rows.\\nDone \\\\ ok\n# TYPE m counter\nm{a="x=y"} 2\nm{a="z"} 3\n'],
    [["m=1e3"], "untyped", undefined, "# TYPE m untyped\nm 1e3\n"],
  ] as const)("%j as %s", (args, type, help, text) => {
    expect(parse([...args], type, help).text).toBe(text);
  });

  it.each([
    [["m"], /argument 1 \(m\): expected NAME=VALUE/],
    [["m="], /argument 1 \(m=\): value "" is not a number/],
    [["m=1", "n=abc"], /argument 2 \(n=abc\): value "abc" of "n" is not a number/],
    [["m=1 2"], /argument 1 \(m=1 2\): value "1 2" is not a number/],
    // A UTF-8 name: written quoted, and refused by the rules of a gateway that takes none.
    [["bad-name=1"], /argument 1 \(bad-name=1\): metric name "bad-name" is a UTF-8 name .*Pushgateway 1\.11 or newer started with --push\.enable-utf8-names takes it/],
    [['m{a="1"=2'], /argument 1 .*expected "," or "}"/],
    [["m=1", "m=2"], /argument 2 \(m=2\): series m is given twice/],
    [['m{a="1"}'], /expected NAME=VALUE/],
    [['m{a="1"} x=2'], /^argument 1 \(m\{a="1"\} x=2\): expected NAME=VALUE or NAME\{label="value"\}=VALUE$/],
    [["# c=1"], /^argument 1 \(# c=1\): invalid metric name "# c"/],
    [['m{a="x\ny"}=1'], /^argument 1 [\s\S]*: a line break cannot be part of an argument/],
  ])("refuses %j", (args, message) => {
    expect(() => parse(args)).toThrow(message);
  });

  it.each([
    ["count_thread_sum 596", "count_thread_sum=596"],
    ['http_requests{code="200"} 3', `'http_requests{code="200"}=3'`],
    ["m\t1", "m=1"],
    [`m{a="it's"} 5`, `'m{a="it'\\''s"}=5'`],
  ])("a line of the text format as an argument (%j) gets the NAME=VALUE form in the hint", (arg, form) => {
    let hint: string | undefined;
    try {
      parse([arg]);
    } catch (error) {
      hint = (error as { hint?: string }).hint;
    }
    expect(hint).toContain(`as an argument write ${form}`);
  });

  // A name and a value, not a line of the text format: the message must speak of the argument,
  // with or without the TYPE line that --type adds.
  it.each([undefined, "gauge"] as const)("'bad name=2' with type %s is reported as an argument", (type) => {
    expect(() => parse(["bad name=2"], type)).toThrow(/^argument 1 \(bad name=2\): invalid metric name "bad name" \(allowed: \[a-zA-Z_:\]\[a-zA-Z0-9_:\]\*, or for receivers that take UTF-8 names any text without blanks, quotes, braces or =\)$/);
  });

  it("writes a UTF-8 name quoted, in the label set, as the text format does", () => {
    const generated = metricArgumentsToExposition(["http.server.duration=1", 'http.server.duration{"service.name"="api"}=2'], "gauge", "Time.");
    expect(generated.text).toBe('# HELP "http.server.duration" Time.\n# TYPE "http.server.duration" gauge\n{"http.server.duration"} 1\n{"http.server.duration","service.name"="api"} 2\n');
    const checked = parseExposition(generated.text, generated.source, { receiver: REMOTE_WRITE_RULES, collectSamples: true });
    expect(checked.samples.map((sample) => [sample.name, sample.labels])).toEqual([
      ["http.server.duration", []],
      ["http.server.duration", [["service.name", "api"]]],
    ]);
  });
});

describe("decodeUtf8", () => {
  it("passes valid UTF-8 through", () => {
    expect(decodeUtf8(Buffer.from("Προμηθεύς 🚀"), { name: "f" })).toBe("Προμηθεύς 🚀");
  });
  it.each([
    [[0x61, 0x0a, 0xff], 2, 2],
    [[0xc3, 0x28], 1, 0],
    [[0x61, 0xe2, 0x82], 1, 1],
    [[0xf8, 0x88, 0x80, 0x80, 0x80], 1, 0],
    [[0xc0, 0xaf], 1, 0],
  ])("refuses %j at line %d, offset %d", (bytes, line, offset) => {
    expect(() => decodeUtf8(Uint8Array.from(bytes), { name: "f" })).toThrow(new RegExp(`f:${line}: invalid UTF-8 .*at offset ${offset}\\)`));
  });
});

describe("values as the gateway reads them (Go's strconv.ParseFloat; each checked against the real gateway)", () => {
  it.each(["1", "-1.5", ".5", "+.5", "5.", "5.e3", "1e-400", "4.9e-324", "1E308", "1.7976931348623157e308", "00012", "+0", "-0", "Inf", "+Inf", "-inf", "Infinity", "+infinity", "NaN", "nan", "NAN"])(
    "accepts %s",
    (value) => {
      expect(parseExposition(`m ${value}\n`, { name: "x" }).sampleCount).toBe(1);
    },
  );

  it.each([
    ["1e400", /beyond what a 64-bit float holds/],
    ["-1e309", /beyond what a 64-bit float holds/],
    ["1.7976931348623159e308", /beyond what a 64-bit float holds/],
    ["1" + "0".repeat(309), /beyond what a 64-bit float holds/],
    ["-NaN", /not a number/],
    ["+NaN", /not a number/],
    ["1e", /not a number/],
    ["1e+", /not a number/],
    [".", /not a number/],
    ["0x10", /not a number/],
    ["1_000", /not a number/],
    ["infinit", /not a number/],
    ["1.5.2", /not a number/],
  ])("refuses %s", (value, message) => {
    expect(() => parseExposition(`m ${value}\n`, { name: "x" })).toThrow(message);
  });

  it("a histogram bound beyond float64 is refused like a value", () => {
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="-1e400"} 1\n', { name: "x" })).toThrow(/label le="-1e400" of "h_bucket" is beyond what a 64-bit float holds/);
  });
});

describe("many labels in one sample", () => {
  const wide = (count: number, extra = "") => `m{${Array.from({ length: count }, (_, i) => `l${i}="${i}"`).join(",")}${extra}} 1\n`;

  // Comparing each label with every earlier one took 45 s for 100,000 labels: the test's
  // time limit would end that; found by hash, they take milliseconds.
  it("100,000 labels: accepted", () => {
    expect(parseExposition(wide(100_000), { name: "x" }).sampleCount).toBe(1);
  });

  it("a label repeated after 100,000 others is still found", () => {
    expect(() => parseExposition(wide(100_000, ',l99998="again"'), { name: "x" })).toThrow(/label "l99998" appears twice in one sample/);
  });

  it.each([15, 16, 17, 40])("a repeat is found whatever the count around the switch to hashing (%i labels)", (count) => {
    for (const repeated of [0, count - 1]) {
      expect(() => parseExposition(wide(count, `,l${repeated}="again"`), { name: "x" })).toThrow(new RegExp(`label "l${repeated}" appears twice`));
    }
    expect(parseExposition(wide(count, `,other="x"`), { name: "x" }).sampleCount).toBe(1);
  });
});

describe("input larger than pushgw can check", () => {
  it("is refused for its size, not as invalid UTF-8", () => {
    // Zero pages from the allocator: the size is refused before a byte is read.
    const huge = new Uint8Array(MAX_INPUT_BYTES + 1);
    expect(() => decodeUtf8(huge, { name: "stdin" })).toThrow(/^stdin: more than 536870887 bytes \(512 MiB\), the most pushgw can check in one push$/);
  });
});

describe("a refused token of any length", () => {
  it.each([
    ["a metric name", `${"\u0000".repeat(1_000_000)} 1\n`, /^x:1: invalid metric name "\u0000{300}/],
    ["a label name", `m{${"\u0001".repeat(1_000_000)}="v"} 1\n`, /^x:1: invalid label name "\u0001{300}/],
    ["a value", `m ${"9".repeat(1_000_000)}x\n`, /^x:1: value "9+/],
  ])("%s of a megabyte: a message of at most a few hundred characters, with its start and its end", (_, input, start) => {
    let message = "";
    try {
      parseExposition(input, { name: "x" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(start);
    expect(message).toMatch(/characters left out/);
    expect(message.split("\n")[0]!.length).toBeLessThan(800);
  });
});

describe("duplicate detection at scale (32-bit hashes collide a few times among 200,000 series)", () => {
  const lines = Array.from({ length: 200_000 }, (_, i) => `series{a="${i.toString(36)}",b="${(i * 7919).toString(36)}"} 1`);

  it("accepts 200,000 distinct series: a hash collision is never taken for a duplicate", () => {
    expect(parseExposition(`${lines.join("\n")}\n`, { name: "big" }).sampleCount).toBe(200_000);
  });

  it.each([
    ["a 1\n# HELP b Text.\na 1\n", 3],
    ['a{x="1"} 1\n# TYPE b gauge\na{x="1"} 2\n', 3],
    ['a{x="1"} 1\n# HELP b Text.\n# TYPE c counter\nb 1\na{x="1"} 2\n', 5],
  ])("finds a repeat with HELP, TYPE or other samples between the two: %j", (text, line) => {
    expect(() => parseExposition(text, { name: "f" })).toThrow(new RegExp(`^f:${line}: series a(\\{x="1"\\})? is given twice`));
  });

  it("finds every repeated series, in any label order", () => {
    const repeats = lines.map((line) => line.replace(/\{(a="[^"]*"),(b="[^"]*")\}/, "{$2,$1}"));
    let error: unknown;
    try {
      parseExposition(`${lines.join("\n")}\n${repeats.join("\n")}\n`, { name: "big" });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/and 199990 more problem/);
  });
});
