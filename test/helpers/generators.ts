import fc from "fast-check";

/** Lines that look like the text format, some right and some subtly wrong. */
export const expositionLike = (): fc.Arbitrary<string> => {
  const name = fc.constantFrom("m", "a_total", "h", "h_bucket", "h_sum", "h_count", "s", "s_count", "job:rate5m", "push_time_seconds", "pushgateway_http_requests_total", "1bad", "bad-name", "");
  // job="prop" and instance="" are what the gateway sets on every sample of the property's groups.
  const labelName = fc.constantFrom("a", "b", "le", "quantile", "job", "instance", "__x", "1a", "a-b", "");
  const labelValue = fc.oneof(fc.constantFrom("1", "+Inf", "0.5", "NaN", "", "prop", "x\\\"y", "bad\\t", "a\\nb", "ünï"), fc.string({ maxLength: 6 }));
  const value = fc.oneof(fc.constantFrom("1", "0", "-1.5", "1e3", "NaN", "+Inf", "-Inf", "inf", "0x10", "1,5", "", "abc", ".5", "5."), fc.double().map(String));
  const label = fc.tuple(labelName, labelValue).map(([n, v]) => `${n}="${v}"`);
  const labels = fc.array(label, { maxLength: 3 }).map((ls) => (ls.length === 0 ? "" : `{${ls.join(",")}}`));
  // Blanks where people leave them: before a line, between its parts, and after a value or a
  // type (the gateway refuses those last two; pushgw repairs them) or a HELP text (kept).
  const blanks = fc.constantFrom(" ", "\t", "  ", " \t");
  const lead = fc.constantFrom("", "", "", " ", "\t");
  const trail = fc.constantFrom("", "", "", " ", "\t", " \t ");
  const sample = fc
    .tuple(lead, name, labels, blanks, value, fc.constantFrom("", "", "", " 1600000000000", ' # {a="b"} 1'), trail)
    .map(([l, n, ls, sp, v, tail, t]) => `${l}${n}${ls}${sp}${v}${tail}${t}`);
  const typeLine = fc
    .tuple(fc.constantFrom("#", "# ", "#\t"), blanks, name, blanks, fc.constantFrom("counter", "gauge", "histogram", "summary", "untyped", "info", "GAUGE", "gauge_histogram"), trail)
    .map(([hash, sp1, n, sp2, t, tr]) => `${hash}${hash === "#" ? " " : ""}TYPE${sp1}${n}${sp2}${t}${tr}`);
  const helpLine = fc
    .tuple(blanks, fc.oneof(name, fc.constant('m{a="1"}')), blanks, fc.constantFrom("Help.", "with \\\\ escape", "bad \\x escape", ""), trail)
    .map(([sp1, n, sp2, h, tr]) => `# HELP${sp1}${n}${sp2}${h}${tr}`);
  const line = fc.oneof({ weight: 6, arbitrary: sample }, { weight: 2, arbitrary: typeLine }, { weight: 1, arbitrary: helpLine }, { weight: 1, arbitrary: fc.constantFrom("", "# a comment", "#", "  ") });
  return fc.array(line, { minLength: 1, maxLength: 8 }).map((lines) => `${lines.join("\n")}\n`);
};

