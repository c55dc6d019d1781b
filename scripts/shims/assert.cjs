"use strict";
// Stands in for node:assert inside the bundled packages (undici calls assert(value), yargs
// strictEqual and notStrictEqual), which check their own invariants with it: loading Node's
// assert module costs about 1 ms of every run. Node's own is loaded only when a check fails,
// and then throws what it threw before.
const real = () => require("node:assert");

function assert(value, message) {
  if (!value) real()(value, message);
}
assert.ok = assert;
assert.strictEqual = (actual, expected, message) => {
  if (!Object.is(actual, expected)) real().strictEqual(actual, expected, message);
};
assert.notStrictEqual = (actual, expected, message) => {
  if (Object.is(actual, expected)) real().notStrictEqual(actual, expected, message);
};
module.exports = assert;
