import { UsageError } from "../../core/errors.js";
import { buildGroupingPath } from "../../core/grouping-key.js";
import { TEXTFILE_RULES } from "../../core/receiver-rules.js";
import { fixedRules, writeAsIs, type TargetSpec } from "./target.js";

/**
 * node_exporter's textfile directory (--textfile-dir): each group is one file, which takes a
 * write as the gateway would (textfile-gateway.ts). Nothing is sent, so nothing is spooled.
 */
export const textfile: TargetSpec<"textfile"> = {
  name: "textfile",
  writesTo: "--textfile-dir",
  // Loaded only for this target: a push to a gateway pays nothing for it (node:crypto included).
  open: async (transport, deps) => (await import("../textfile-gateway.js")).openTextfileGateway(transport, deps),
  collectSamples: false,
  inputRules: fixedRules(TEXTFILE_RULES),
  writeCall: (method, key, exposition) => ({ method, path: buildGroupingPath(key), body: exposition.text, key }),
  write: writeAsIs,
  groups: { can: true, holder: "the directory", noGroups: (where) => `${where} holds no group pushgw wrote` },
  spool: {
    can: false,
    spoolHint: "a file is written at once or not at all, and a write that fails says why; there is nothing to keep for later",
    refusal: () =>
      new UsageError("flush has nothing to do with --target textfile: files are written at once, and nothing is spooled", {
        hint: "a write that fails (a full disk, a lock held too long) says so at once; run it again",
      }),
  },
  doctor: {
    can: false,
    refusal: () =>
      new UsageError("doctor examines a Pushgateway; --target textfile has none", {
        hint: "pushgw list --target textfile shows the directory's groups; node_exporter's node_textfile_scrape_error says whether it read them",
      }),
  },
  jobEnvironment: (gateway) => ({ PUSHGW_TARGET: "textfile", PUSHGW_TEXTFILE_DIR: gateway.baseUrls[0]! }),
};
