import { existsSync } from "node:fs";
import { relative } from "node:path";
import { ensurePushgatewayBinary } from "../helpers/pushgateway.js";
import { DEBS, ROOT, STANDALONE } from "../helpers/standalone.js";

/** These tests check what `npm run standalone` and `npm run deb` made; they do not build it. */
export default function setup(): void {
  const missing = [...Object.values(STANDALONE), ...Object.values(DEBS)].filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(`missing ${missing.map((f) => relative(ROOT, f)).join(", ")}: run \`npm run test:dist\` (it builds them), or \`npm run standalone && npm run deb\` first`);
  }
  ensurePushgatewayBinary();
}
