/**
 * A line diff for `pushgw cron wrap --dry-run` in the unified format (`---`, `+++`, `@@`),
 * with three lines of context: crontabs are short, so a plain longest-common-subsequence table does.
 */
export function unifiedDiff(label: string, before: string, after: string): string {
  if (before === after) return "";
  const a = splitLines(before);
  const b = splitLines(after);
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  type Op = { readonly kind: " " | "-" | "+"; readonly text: string; readonly aLine: number; readonly bLine: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: " ", text: a[i++]!, aLine: i, bLine: ++j });
    else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ kind: "-", text: a[i++]!, aLine: i, bLine: j });
    else ops.push({ kind: "+", text: b[j++]!, aLine: i, bLine: j });
  }
  const out = [`--- ${label}`, `+++ ${label}`];
  const context = 3;
  let at = 0;
  while (at < ops.length) {
    const change = ops.findIndex((op, k) => k >= at && op.kind !== " ");
    if (change < 0) break;
    const start = Math.max(at, change - context);
    let end = change;
    // A hunk ends after `context` unchanged lines that no change follows closely.
    for (let k = change; k < ops.length; k++) {
      if (ops[k]!.kind !== " ") end = k;
      else if (k - end > context * 2) break;
    }
    const stop = Math.min(ops.length, end + context + 1);
    const hunk = ops.slice(start, stop);
    const aStart = hunk.find((op) => op.kind !== "+")?.aLine ?? hunk[0]!.aLine + 1;
    const bStart = hunk.find((op) => op.kind !== "-")?.bLine ?? hunk[0]!.bLine + 1;
    const aCount = hunk.filter((op) => op.kind !== "+").length;
    const bCount = hunk.filter((op) => op.kind !== "-").length;
    out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.text}`);
    at = stop;
  }
  return out.join("\n") + "\n";
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  return (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
}
