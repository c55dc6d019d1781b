import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { parseExposition } from "../../src/core/exposition.js";
import { expositionLike } from "../helpers/generators.js";

describe("parseExposition, on generated input", () => {
  it("never throws anything but an InputError, whatever the text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), expositionLike()), (text) => {
        try {
          parseExposition(text, { name: "generated" }, { groupingLabels: new Map([["job", "j"]]) });
        } catch (error) {
          expect(error).toBeInstanceOf(InputError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("is deterministic and leaves accepted text as it was (but for the repairs)", () => {
    fc.assert(
      fc.property(expositionLike(), (text) => {
        let parsed;
        try {
          parsed = parseExposition(text, { name: "generated" });
        } catch {
          return;
        }
        // The only repair the generator needs: blanks after a sample's value or a TYPE line's
        // type are dropped; HELP text, comments and blank lines stay as written.
        const expected = text
          .split("\n")
          .map((line) => (/^[ \t]*#/.test(line) ? (/^[ \t]*#[ \t]*TYPE[ \t]/.test(line) ? line.replace(/[ \t]+$/, "") : line) : /^[ \t]*$/.test(line) ? line : line.replace(/[ \t]+$/, "")))
          .join("\n");
        expect(parsed.text).toBe(expected);
        const again = parseExposition(parsed.text, { name: "again" });
        expect(again.text).toBe(parsed.text);
        expect(again.sampleCount).toBe(parsed.sampleCount);
      }),
      { numRuns: 2000 },
    );
  });
});
