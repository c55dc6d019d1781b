/** Where the text being checked came from, to name its lines in messages. */
export interface ExpositionSource {
  /** Shown before the line number: `stdin`, `metrics.prom`. */
  readonly name: string;
  /** Overrides `name:line` (used for METRIC arguments, which have no file lines). */
  readonly describeLine?: (line: number) => string;
}

/** `metrics.prom:12`, or what the source says for that line. */
export function where(source: ExpositionSource, line: number): string {
  return source.describeLine ? source.describeLine(line) : `${source.name}:${line}`;
}
