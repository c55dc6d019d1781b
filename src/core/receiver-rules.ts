/**
 * What a receiver takes where receivers differ: the checker refuses what the receiver pushed to
 * would refuse or store otherwise, and takes what it stores as written. One value per kind of
 * receiver; the input's checks read its flags, never a version number.
 *
 * Measured on real binaries (docs/research, /work/shared/research/todays-stack.md): Pushgateway
 * 1.5.1 casts histogram and summary counts to unsigned integers and refuses quoted names and `\"`
 * in HELP; 1.11 stores counts as floats, takes quoted names and `\"`, and takes names beyond
 * [a-zA-Z_:][a-zA-Z0-9_:]* only when started with --push.enable-utf8-names. Remote write carries
 * any name and float; node_exporter's textfile collector refuses UTF-8 names.
 */

/**
 * An input's use of something receivers differ on. `utf8-grouping-names`: a UTF-8 label name in
 * the grouping key, which goes into the path escaped (`U__service_2e_name`).
 */
export type ReceiverFeature = "fractional-counts" | "quoted-names" | "utf8-names" | "utf8-grouping-names" | "help-quote-escape";

export interface ReceiverRules {
  /** The receiver, as messages name it. */
  readonly receiver: string;
  /** Histogram and summary counts that are not whole numbers from 0 (0.5, NaN) are stored as written. */
  readonly fractionalCounts: boolean;
  /** Names written in double quotes (`"a" 1`, `{"a"} 1`, `{"b"="1"}`). */
  readonly quotedNames: boolean;
  /** Metric and label names beyond the legacy characters (`http.server.duration`, `service.name`). */
  readonly utf8Names: boolean;
  /** `\"` in a HELP text. */
  readonly helpQuoteEscape: boolean;
}

/** Pushgateway before 1.11 (Debian 12's 1.5.1), and any gateway whose version cannot be told. */
export const PUSHGATEWAY_STRICT_RULES: ReceiverRules = {
  receiver: "a Pushgateway before 1.11 (or one that did not say its version)",
  fractionalCounts: false,
  quotedNames: false,
  utf8Names: false,
  helpQuoteEscape: false,
};

/** Pushgateway 1.11 and newer, started without --push.enable-utf8-names. */
export const PUSHGATEWAY_1_11_RULES: ReceiverRules = {
  receiver: "a Pushgateway 1.11 or newer started without --push.enable-utf8-names",
  fractionalCounts: true,
  quotedNames: true,
  utf8Names: false,
  helpQuoteEscape: true,
};

/** Pushgateway 1.11 and newer, started with --push.enable-utf8-names. */
export const PUSHGATEWAY_1_11_UTF8_RULES: ReceiverRules = {
  receiver: "a Pushgateway 1.11 or newer started with --push.enable-utf8-names",
  fractionalCounts: true,
  quotedNames: true,
  utf8Names: true,
  helpQuoteEscape: true,
};

/** Remote write: pushgw encodes the samples itself, so the text's spelling does not reach the receiver. */
export const REMOTE_WRITE_RULES: ReceiverRules = {
  receiver: "a remote-write receiver",
  fractionalCounts: true,
  quotedNames: true,
  utf8Names: true,
  helpQuoteEscape: true,
};

/** VictoriaMetrics' text import: floats everywhere; names kept to what its text parser is known to read. */
export const VICTORIAMETRICS_RULES: ReceiverRules = {
  receiver: "VictoriaMetrics",
  fractionalCounts: true,
  quotedNames: false,
  utf8Names: false,
  helpQuoteEscape: false,
};

/**
 * An OTLP receiver: not measured, so the strict rules (OTLP's counts are whole numbers, and what a
 * receiver makes of a name beyond the legacy characters differs between receivers).
 */
export const OTLP_RULES: ReceiverRules = {
  receiver: "an OTLP receiver",
  fractionalCounts: false,
  quotedNames: false,
  utf8Names: false,
  helpQuoteEscape: false,
};

/** node_exporter's textfile collector: refuses UTF-8 names (1.11 too), and 1.5 reads what 1.5.1's gateway reads. */
export const TEXTFILE_RULES: ReceiverRules = {
  receiver: "node_exporter's textfile collector",
  fractionalCounts: false,
  quotedNames: false,
  utf8Names: false,
  helpQuoteEscape: false,
};

/** What a Pushgateway says of itself (its /api/v1/status), as far as the rules depend on it. */
export interface PushgatewayFacts {
  /** `1.11.2`; undefined when it did not say. */
  readonly version: string | undefined;
  readonly utf8Names: boolean;
}

/** The rules of the Pushgateway that says this of itself; the strict ones when it cannot be told. */
export function pushgatewayRules(facts: PushgatewayFacts | undefined): ReceiverRules {
  const version = /^v?(\d+)\.(\d+)\./.exec(facts?.version ?? "");
  if (version === null) return PUSHGATEWAY_STRICT_RULES;
  const [major, minor] = [Number(version[1]), Number(version[2])];
  if (major < 1 || (major === 1 && minor < 11)) return PUSHGATEWAY_STRICT_RULES;
  return facts!.utf8Names ? PUSHGATEWAY_1_11_UTF8_RULES : PUSHGATEWAY_1_11_RULES;
}

/** Whether `rules` take every feature in `needs`. */
export function takesAll(rules: ReceiverRules, needs: ReadonlySet<ReceiverFeature>): boolean {
  for (const need of needs) if (!takes(rules, need)) return false;
  return true;
}

export function takes(rules: ReceiverRules, feature: ReceiverFeature): boolean {
  switch (feature) {
    case "fractional-counts":
      return rules.fractionalCounts;
    case "quoted-names":
      return rules.quotedNames;
    case "utf8-names":
    case "utf8-grouping-names":
      return rules.utf8Names;
    case "help-quote-escape":
      return rules.helpQuoteEscape;
  }
}

/** Rules that take only what all of `each` take (several gateways named at once). */
export function strictestOf(each: readonly ReceiverRules[]): ReceiverRules {
  if (each.length === 0) return PUSHGATEWAY_STRICT_RULES;
  const first = each[0]!;
  if (each.every((rules) => rules === first)) return first;
  return {
    receiver: "every gateway named",
    fractionalCounts: each.every((rules) => rules.fractionalCounts),
    quotedNames: each.every((rules) => rules.quotedNames),
    utf8Names: each.every((rules) => rules.utf8Names),
    helpQuoteEscape: each.every((rules) => rules.helpQuoteEscape),
  };
}

/**
 * Why the receiver refuses a feature the input uses: the words that end the problem, saying
 * which receivers take it. For a Pushgateway without UTF-8 names, the flag that turns them on.
 */
export function featureRefusal(rules: ReceiverRules, used: ReceiverFeature): string {
  const feature = used === "utf8-grouping-names" ? "utf8-names" : used;
  if (feature === "utf8-names" && rules === PUSHGATEWAY_1_11_RULES) {
    return "this gateway was started without UTF-8 names: start the gateway with --push.enable-utf8-names (Pushgateway 1.11 or newer)";
  }
  if (rules === PUSHGATEWAY_STRICT_RULES) {
    const newer = feature === "utf8-names" ? "Pushgateway 1.11 or newer started with --push.enable-utf8-names" : "Pushgateway 1.11 or newer";
    return `${rules.receiver} refuses it; ${newer} takes it`;
  }
  if (rules === TEXTFILE_RULES && feature === "utf8-names") return "node_exporter's textfile collector refuses it (1.11 too)";
  // Not measured there: refused on the safe side, and said so.
  if (rules === TEXTFILE_RULES || rules === VICTORIAMETRICS_RULES || rules === OTLP_RULES) return `pushgw sends it only to receivers known to take it, and ${rules.receiver} is not one of them`;
  return `${rules.receiver} refuses it`;
}

/**
 * Whether input needing `needs` must be checked against what the gateway says now, never against
 * what it said before: where a gateway that is no longer the one remembered (rolled back to 1.5.1,
 * restarted without --push.enable-utf8-names, another one behind the same URL) would store the
 * input otherwise without a word. 1.5.1 casts a fractional count to 0; a gateway without UTF-8
 * names takes `U__service_2e_name` in a path as a name of its own. A quoted or UTF-8 name in the
 * text or `\"` in HELP it refuses with its own words, so for those the memory may answer.
 */
export function needsFreshAnswer(needs: ReadonlySet<ReceiverFeature>): boolean {
  return needs.has("fractional-counts") || needs.has("utf8-grouping-names");
}

/** How long what a receiver said of itself is trusted (a gateway may be upgraded or restarted with other flags). */
export const RECEIVER_FACTS_TTL_MS = 10 * 60 * 1000;

/** Whether a fact learnt at `atMs` is still trusted at `nowMs` (a clock set back distrusts it). */
export function isFresh(atMs: number, nowMs: number, ttlMs: number = RECEIVER_FACTS_TTL_MS): boolean {
  return atMs <= nowMs && nowMs - atMs < ttlMs;
}

// --- what pushgw remembers of receivers between runs --------------------------------------

/** What one receiver URL said of itself, each fact with when it was learnt. */
export interface RememberedReceiver {
  readonly pushgateway?: { readonly at: number; readonly facts: PushgatewayFacts } | undefined;
  /** The remote-write protocol the receiver takes (see remoteWriteChoice in remote-write.ts). */
  readonly remoteWrite?: { readonly at: number; readonly version: "2.0" | "1.0" } | undefined;
}

/** At most this many receivers are remembered (the most recently learnt). */
const REMEMBERED_RECEIVERS = 64;

/** The memory file's text read back; anything malformed is forgotten, never trusted. */
export function parseReceiverMemory(text: string | undefined): Map<string, RememberedReceiver> {
  const memory = new Map<string, RememberedReceiver>();
  if (text === undefined) return memory;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return memory;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return memory;
  for (const [url, entry] of Object.entries(json as Record<string, unknown>)) {
    if (typeof entry !== "object" || entry === null) continue;
    const { pushgateway, remoteWrite } = entry as { pushgateway?: unknown; remoteWrite?: unknown };
    const remembered: { pushgateway?: RememberedReceiver["pushgateway"]; remoteWrite?: RememberedReceiver["remoteWrite"] } = {};
    const p = pushgateway as { at?: unknown; facts?: { version?: unknown; utf8Names?: unknown } } | undefined;
    if (typeof p?.at === "number" && (typeof p.facts?.version === "string" || p.facts?.version === undefined) && typeof p.facts?.utf8Names === "boolean") {
      remembered.pushgateway = { at: p.at, facts: { version: p.facts.version as string | undefined, utf8Names: p.facts.utf8Names } };
    }
    const r = remoteWrite as { at?: unknown; version?: unknown } | undefined;
    if (typeof r?.at === "number" && (r.version === "2.0" || r.version === "1.0")) remembered.remoteWrite = { at: r.at, version: r.version };
    if (remembered.pushgateway !== undefined || remembered.remoteWrite !== undefined) memory.set(url, remembered);
  }
  return memory;
}

/** The memory with `url`'s entry changed, as the file's text: stale facts and the oldest receivers beyond the limit dropped. */
export function updatedReceiverMemory(text: string | undefined, url: string, change: RememberedReceiver, nowMs: number): string {
  const memory = parseReceiverMemory(text);
  memory.set(url, { ...memory.get(url), ...change });
  const fresh = [...memory]
    .map(([key, entry]) => {
      const kept: { pushgateway?: RememberedReceiver["pushgateway"]; remoteWrite?: RememberedReceiver["remoteWrite"] } = {};
      if (entry.pushgateway !== undefined && isFresh(entry.pushgateway.at, nowMs)) kept.pushgateway = entry.pushgateway;
      if (entry.remoteWrite !== undefined && isFresh(entry.remoteWrite.at, nowMs, REMOTE_WRITE_CHOICE_TTL_MS)) kept.remoteWrite = entry.remoteWrite;
      return [key, kept, Math.max(kept.pushgateway?.at ?? 0, kept.remoteWrite?.at ?? 0)] as const;
    })
    .filter(([, , at]) => at > 0)
    .sort((a, b) => b[2] - a[2])
    .slice(0, REMEMBERED_RECEIVERS);
  return `${JSON.stringify(Object.fromEntries(fresh.map(([key, kept]) => [key, kept])), null, 1)}\n`;
}

/** How long the remote-write protocol a receiver took is reused before 2.0 is tried again. */
export const REMOTE_WRITE_CHOICE_TTL_MS = 60 * 60 * 1000;
