import { describe, expect, it } from "vitest";
import { describeRefusal } from "../../src/core/delivery.js";
import { printable, singleLine } from "../../src/core/printable.js";

describe("text from elsewhere, as printed", () => {
  it.each([
    ["plain", "backup-db", "backup-db", "backup-db"],
    ["a line break", "evil\nfake", "evil\nfake", "evil\\x0afake"],
    ["a tab", "a\tb", "a\tb", "a\\x09b"],
    ["a carriage return", "ok\rFAILED", "ok\\x0dFAILED", "ok\\x0dFAILED"],
    ["a window title escape", "\u001b]0;owned\u0007", "\\x1b]0;owned\\x07", "\\x1b]0;owned\\x07"],
    ["a C1 control (NEL)", "a\u0085b", "a\\x85b", "a\\x85b"],
    ["a bidi override", "abc\u202edef", "abc\\u{202e}def", "abc\\u{202e}def"],
    ["a line separator", "a\u2028b", "a\\u{2028}b", "a\\u{2028}b"],
    ["UTF-8 text", "Grüße 日本", "Grüße 日本", "Grüße 日本"],
  ])("%s", (_, text, asPrinted, asOneLine) => {
    expect(printable(text)).toBe(asPrinted);
    expect(singleLine(text)).toBe(asOneLine);
  });

  it("a gateway's answer quoted in an error stays on pushgw's line", () => {
    const error = describeRefusal({ method: "PUT", url: "http://gw/metrics/job/x", status: 400, statusText: "Bad Request", body: "bad\npushgw: everything is fine\n", attempts: 1 });
    expect(error.message).toBe("PUT http://gw/metrics/job/x: 400 Bad Request: bad\\x0apushgw: everything is fine");
  });
});
