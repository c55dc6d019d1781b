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
        expect(parsed.text).toBe(text);
        expect(parseExposition(parsed.text, { name: "again" }).sampleCount).toBe(parsed.sampleCount);
      }),
      { numRuns: 2000 },
    );
  });
});
