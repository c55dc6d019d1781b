import { GatewayError, InputError, ToolError, UsageError } from "../core/errors.js";
import { parseExposition } from "../core/exposition.js";
import { groupingLabelMap, parseGroupingPath, type GroupingKey } from "../core/grouping-key.js";
import type { Group } from "../core/groups.js";
import {
  conflictError,
  conflictFilter,
  familiesOf,
  findConflict,
  findSelfConflict,
  isTextfileName,
  mergeFamilies,
  readPromFile,
  readPushgwFile,
  renderTextfile,
  textfileGroup,
  textfileName,
  type PromFile,
  type TextfileFamily,
} from "../core/textfile.js";
import type { CallOutcome, DeliveryLimits, Deps, Gateway, GatewayCall, TextfileDirectory, TransportOptions } from "./ports.js";

/**
 * `--target textfile`: the Gateway that writes node_exporter's textfile directory instead of
 * sending requests. Each group is one file (core/textfile.ts names it); a PUT replaces it, a
 * POST replaces the families it carries and keeps the others, a DELETE removes it, and the
 * groups list and prune work on are the files pushgw wrote. Every write happens under the
 * file's lock and checks the result against the directory's other `*.prom` files, refusing
 * (exit 2, nothing written) what node_exporter would silently drop. Like every Gateway it
 * never throws once open: what went wrong is the call's outcome.
 */
export async function openTextfileGateway(transport: TransportOptions, deps: Deps): Promise<Gateway> {
  if (transport.textfileDir === undefined) {
    throw new UsageError("--target textfile needs --textfile-dir DIR (or PUSHGW_TEXTFILE_DIR)", {
      hint: "give the directory node_exporter reads: its --collector.textfile.directory",
    });
  }
  const store = await deps.textfiles(transport.textfileDir);
  const pathOf = (name: string) => `${store.dir}/${name}`;

  const apply = async (call: GatewayCall, limits: DeliveryLimits): Promise<CallOutcome> => {
    const key = keyOf(call);
    if (typeof key === "string") return { kind: "failed", url: store.dir, retryable: false, error: new GatewayError(`${call.method} ${call.path}: ${key}`) };
    const name = textfileName(key);
    const url = pathOf(name);
    // Waiting for another run's lock is waiting in a queue, as a push waits for a busy gateway:
    // as long as a push with its retries may take, and never past wrap's budget.
    const patience = (transport.retry.retries + 1) * transport.timeoutMs;
    const waitMs = limits.deadline === undefined ? patience : Math.max(0, Math.min(patience, limits.deadline - deps.clock.monotonic()));
    try {
      if (call.method === "DELETE") {
        const removed = await store.update(name, waitMs, async (current) => ({ write: current === undefined ? undefined : null, result: current !== undefined }));
        deps.out.verbose(removed ? `removed ${url}` : `${url} was not there`);
      } else if (call.method === "PUT" || call.method === "POST") {
        const incoming = incomingFamilies(call, key);
        const method = call.method;
        await store.update(name, waitMs, async (current) => ({ write: await nextText(method, key, name, url, current, incoming), result: undefined }));
        deps.out.verbose(`${method} ${url}: written`);
      } else {
        return { kind: "failed", url, retryable: false, error: new GatewayError(`${call.method} ${url}: the textfile target reads groups with list`) };
      }
      return { kind: "delivered", url, status: 200, body: "" };
    } catch (error) {
      // Refused for what node_exporter would drop: nothing written, exit 2 as for bad input.
      if (error instanceof InputError) return { kind: "failed", url, retryable: false, error: new GatewayError(error.message, { hint: error.hint }), input: true };
      return { kind: "failed", url, retryable: false, error: describeFailure(error, call, url) };
    }
  };

  /** The file's new text, checked against node_exporter's rules; throws what refuses it. */
  const nextText = async (method: "PUT" | "POST", key: GroupingKey, name: string, url: string, current: string | undefined, incoming: TextfileFamily[]): Promise<string> => {
    const base = method === "POST" && current !== undefined ? readPushgwFile(current, name) : undefined;
    if (base !== undefined && "problem" in base) {
      throw new GatewayError(`${url}: not written: it is not a file pushgw can add to (${base.problem})`, {
        hint: "look at what is there: replace it whole with `pushgw push`, or remove it",
      });
    }
    const merged = mergeFamilies(base?.families ?? [], incoming, method);
    const text = renderTextfile(key, merged, deps.clock.now());
    const written = readPromFile(text, name);
    if ("problem" in written) throw new InputError(`${url}: not written: the group's file would not parse: ${written.problem}`);
    const own = findSelfConflict(written, merged);
    if (own !== undefined) throw conflictError(own, url);
    await checkAgainstOthers(written, name, url);
    return text;
  };

  const checkAgainstOthers = async (written: PromFile, name: string, url: string): Promise<void> => {
    const { files, skipped } = await store.readAll(name);
    for (const { name: other, why } of skipped) deps.out.verbose(`${other} is left out of the check against the directory's other files: ${why}`);
    const decoder = new TextDecoder();
    const mayConflict = conflictFilter(written);
    for (const other of files) {
      // A file that names none of our families cannot conflict with them: not parsed at all.
      if (!mayConflict(other.name, decoder.decode(other.bytes))) continue;
      const parsed = readPromFile(other.bytes, other.name);
      if ("problem" in parsed) {
        deps.out.verbose(`${other.name} is left out of the check against the directory's other files: it does not parse (${parsed.problem})`);
        continue;
      }
      const conflict = findConflict(written, parsed, other.name);
      if (conflict !== undefined) throw conflictError(conflict, url);
    }
  };

  const gateway: Gateway = {
    target: "textfile",
    baseUrls: [store.dir],
    spoolDir: undefined,
    names: () => false,
    write: async (call, limits = {}) => [await apply(call, limits)],
    sendTo: (_, call, limits = {}) => apply(call, limits),
    async readGroups() {
      try {
        return { kind: "read", groups: await readGroups(store, deps) };
      } catch (error) {
        return { kind: "failed", error: new GatewayError(`cannot read ${store.dir}: ${describeError(error)}`) };
      }
    },
    dryRun(call) {
      const key = keyOf(call);
      if (typeof key === "string") return deps.out.result(`${call.method} ${call.path}: ${key}`);
      const url = pathOf(textfileName(key));
      if (call.method === "DELETE") return deps.out.result(`DELETE ${url}\n(the file is removed)`);
      const what = call.method === "PUT" ? "the file is replaced by" : "these families replace theirs in the file, the others stay";
      deps.out.result(`${call.method} ${url}\n(${what})\n\n${renderTextfile(key, incomingFamilies(call, key), deps.clock.now()).replace(/\n$/, "")}`);
    },
  };
  return gateway;
}

/** The groups of the directory: the files pushgw wrote, read back; anything else is left alone. */
async function readGroups(store: TextfileDirectory, deps: Deps): Promise<Group[]> {
  const groups: Group[] = [];
  const { files } = await store.readAll();
  for (const file of files) {
    if (!isTextfileName(file.name)) continue;
    const read = readPushgwFile(file.bytes, file.name);
    if ("problem" in read) deps.out.verbose(`${file.name} is left out: ${read.problem}`);
    else groups.push(textfileGroup(read));
  }
  return groups;
}

/** The call's group: its key, or the one its path names (prune and delete --match give paths). */
function keyOf(call: GatewayCall): GroupingKey | string {
  if (call.key !== undefined) return call.key;
  const parsed = parseGroupingPath(call.path);
  return "key" in parsed ? parsed.key : `not a group: ${parsed.problem}`;
}

/** The families a write carries: its text was checked before; read again with every sample. */
function incomingFamilies(call: GatewayCall, key: GroupingKey): TextfileFamily[] {
  const body = typeof call.body === "string" ? call.body : "";
  const groupingLabels = groupingLabelMap(key);
  return familiesOf(parseExposition(body, { name: "the push" }, { groupingLabels, collectSamples: true }), key);
}

function describeFailure(error: unknown, call: GatewayCall, url: string): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof ToolError) return new GatewayError(error.message, { hint: error.hint });
  const code = (error as NodeJS.ErrnoException).code;
  const hint =
    code === "ENOSPC" || code === "EDQUOT"
      ? "the file system is full: make room; the file was left as it was"
      : code === "EACCES" || code === "EPERM"
        ? "pushgw may not write there: run it as the directory's owner"
        : code === "EROFS"
          ? "the file system is mounted read-only"
          : undefined;
  return new GatewayError(`${call.method} ${url}: ${describeError(error)}`, { hint });
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.startsWith(code) ? `${code}: ${error.message}` : error.message;
}
