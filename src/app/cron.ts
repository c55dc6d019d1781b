import type { CrontabFormat } from "../core/cron/crontab.js";
import { unifiedDiff } from "../core/cron/diff.js";
import { CronProblems, planCron, unwrapSource, wrapSources, type CronSourceText, type RewrittenSource, type ScannedEntry } from "../core/cron/plan.js";
import { formatExactDuration } from "../core/cron/schedule.js";
import { UsageError, WriteError } from "../core/errors.js";
import type { Crontabs, Deps } from "./ports.js";

export type CronAction = "scan" | "wrap" | "unwrap";

export interface CronOptions {
  readonly action: CronAction;
  /** System-format files (/etc/crontab, /etc/cron.d/*), with a user field. */
  readonly systemFiles: readonly string[];
  /** --crontab FILE: user-format files, rewritten in place. */
  readonly userFiles: readonly string[];
  /** --user NAME: whose crontab (`crontab -u`); only without files. */
  readonly user: string | undefined;
  readonly json: boolean;
  readonly dryRun: boolean;
  readonly backupDir: string | undefined;
  /** Environment lines for the top of each file wrap changes (`PUSHGW_GATEWAY` → value). */
  readonly settings: ReadonlyArray<readonly [string, string]>;
  /** --grace for each entry wrapped with an --expect-every; undefined: wrap's default. */
  readonly graceSeconds: number | undefined;
}

/** Where a source comes from, and how it is written back. */
interface Place {
  readonly text: CronSourceText;
  /** A file name for its backup copy. */
  readonly backupName: string;
  write(text: string): Promise<void>;
}

/** pushgw cron scan|wrap|unwrap. */
export async function runCron(options: CronOptions, deps: Deps, crontabs: Crontabs): Promise<number> {
  const places = await readPlaces(options, crontabs);
  if (options.action === "unwrap") return rewrite(places.map((p) => ({ place: p, result: unwrapSource(p.text) })), "unwrapped", options, deps, crontabs);
  let plan;
  try {
    plan = planCron(
      places.map((p) => p.text),
      { localZone: crontabs.localZone, nowMs: deps.clock.now() },
    );
  } catch (error) {
    throw asUsageError(error);
  }
  if (options.action === "scan") {
    printScan(plan.entries, options.json, deps);
    return 0;
  }
  if (!/(^|\/)pushgw$/.test(crontabs.pushgwPath)) {
    throw new UsageError(`pushgw runs as ${JSON.stringify(crontabs.pushgwPath)}: cron scan and unwrap know a wrapped line by the name pushgw`, { hint: "run cron wrap through a pushgw of that name (the Debian package's /usr/bin/pushgw, or a link named pushgw)" });
  }
  if (crontabs.pushgwPathProblem !== undefined && options.action === "wrap") {
    throw new UsageError(`root's crontabs would run ${crontabs.pushgwPath} for good, and another user could replace it: ${crontabs.pushgwPathProblem}`, {
      hint: "install pushgw where only root can write (the Debian package's /usr/bin/pushgw, or npm install -g as root), and run cron wrap with that one",
    });
  }
  if (/[%'\n\r]/.test(crontabs.pushgwPath)) {
    throw new UsageError(`pushgw's path ${JSON.stringify(crontabs.pushgwPath)} cannot be written into a crontab line (cron ends a command at %, and unwrap must find the line again)`, { hint: "install pushgw where its path has no %, ' or line break" });
  }
  if (crontabs.nodeMissingFromCronPath) {
    deps.out.warn(`${crontabs.pushgwPath} starts with #!/usr/bin/env node, and cron's PATH (/usr/bin:/bin) has no node: the wrapped entries would not run unless the crontab sets a PATH with node in it, or use the standalone pushgw executable`);
  }
  let wrapped;
  try {
    wrapped = wrapSources(plan, { pushgw: crontabs.pushgwPath, env: options.settings, graceSeconds: options.graceSeconds });
  } catch (error) {
    throw asUsageError(error);
  }
  return rewrite(
    wrapped.map((result, i) => ({ place: places[i]!, result })),
    "wrapped",
    options,
    deps,
    crontabs,
  );
}

async function readPlaces(options: CronOptions, crontabs: Crontabs): Promise<Place[]> {
  const fromFile = async (path: string, format: CrontabFormat): Promise<Place> => ({
    text: { label: path, format, text: await crontabs.readFile(path) },
    backupName: path.replace(/^\/+/, "").replace(/[^A-Za-z0-9_.-]+/g, "_"),
    write: (text) => crontabs.replaceFile(path, text),
  });
  if (options.systemFiles.length > 0 || options.userFiles.length > 0) {
    if (options.user !== undefined) {
      throw new UsageError("--user names whose crontab to use, and files were given too", { hint: "run pushgw cron once for the files and once with --user NAME" });
    }
    const places: Place[] = [];
    for (const path of options.systemFiles) places.push(await fromFile(path, "system"));
    for (const path of options.userFiles) places.push(await fromFile(path, "user"));
    const labels = places.map((p) => p.text.label);
    const twice = labels.find((l, i) => labels.indexOf(l) !== i);
    if (twice !== undefined) throw new UsageError(`${twice} was given twice`, { hint: "give each crontab once" });
    return places;
  }
  const label = options.user === undefined ? "crontab" : `crontab -u ${options.user}`;
  return [
    {
      text: { label, format: "user", text: await crontabs.readUserCrontab(options.user) },
      backupName: `crontab-${(options.user ?? "own").replace(/[^A-Za-z0-9_.-]+/g, "_")}`,
      write: (text) => crontabs.writeUserCrontab(options.user, text),
    },
  ];
}

async function rewrite(
  results: ReadonlyArray<{ readonly place: Place; readonly result: RewrittenSource }>,
  verb: "wrapped" | "unwrapped",
  options: CronOptions,
  deps: Deps,
  crontabs: Crontabs,
): Promise<number> {
  const changed = results.filter((r) => r.result.text !== r.place.text.text);
  if (options.dryRun) {
    for (const { place, result } of changed) deps.out.result(unifiedDiff(place.text.label, place.text.text, result.text).replace(/\n$/, ""));
    deps.out.info(changed.length === 0 ? `nothing to change (--dry-run)` : `would change ${changed.length} of ${results.length} crontab${results.length === 1 ? "" : "s"}; nothing written (--dry-run)`);
    return 0;
  }
  if (changed.length === 0) {
    deps.out.info(`nothing to change: no entry to be ${verb} in ${results.map((r) => r.place.text.label).join(", ")}`);
    return 0;
  }
  const backup = await crontabs.saveBackup(
    options.backupDir,
    changed.map(({ place }) => ({ name: place.backupName, text: place.text.text })),
  );
  deps.out.info(`backup of ${changed.map((c) => c.place.text.label).join(", ")} saved in ${backup}`);
  const written: string[] = [];
  const failed: string[] = [];
  for (const { place, result } of changed) {
    try {
      await place.write(result.text);
      written.push(place.text.label);
      deps.out.info(`${place.text.label}: ${result.count} ${result.count === 1 ? "entry" : "entries"} ${verb}`);
    } catch (error) {
      if (!(error instanceof WriteError) && !(error instanceof UsageError)) throw error;
      failed.push(`${place.text.label} (${error.message})`);
    }
  }
  if (failed.length > 0) {
    throw new WriteError(`not written: ${failed.join("; ")}${written.length > 0 ? `; written: ${written.join(", ")}` : "; nothing was written"}`, {
      hint: `the files as they were are in ${backup}`,
    });
  }
  return 0;
}

function printScan(entries: readonly ScannedEntry[], json: boolean, deps: Deps): void {
  if (json) {
    const objects = entries.map((e) => ({
      source: `${e.label}:${e.lineNumber}`,
      schedule: e.schedule.replace(/\s+/g, " "),
      command: e.command,
      job: e.job ?? null,
      expect_every_seconds: e.expectEverySeconds,
      wrapped: e.wrapped,
      ignored: e.ignored,
    }));
    deps.out.result(JSON.stringify(objects, null, 2));
    return;
  }
  if (entries.length === 0) {
    deps.out.info("no crontab entries");
    return;
  }
  const rows = entries.map((e) => [
    `${e.label}:${e.lineNumber}`,
    e.schedule.replace(/\s+/g, " "),
    e.job ?? "-",
    e.expectEverySeconds === null ? "-" : formatExactDuration(e.expectEverySeconds),
    e.ignored ? "ignored" : e.wrapped ? "wrapped" : "to wrap",
    e.command,
  ]);
  const header = ["SOURCE", "SCHEDULE", "JOB", "EVERY", "STATE", "COMMAND"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) deps.out.result(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
}

/** Entries pushgw cannot handle, listed with file:line: exit 2, nothing written. */
function asUsageError(error: unknown): unknown {
  if (!(error instanceof CronProblems)) return error;
  return new UsageError(`cannot handle ${error.problems.length === 1 ? "this entry" : "these entries"}; nothing was written:\n  ${error.problems.join("\n  ")}`, {
    hint: "correct the line, or put '# pushgw: ignore' on the line before it",
  });
}
