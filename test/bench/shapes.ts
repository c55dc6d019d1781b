/**
 * File shapes for the parser benchmark: the parser's speed depends on how many labels a series
 * has, how long they are and how much they vary, so one shape alone says little.
 */
export interface Shape {
  readonly name: string;
  /** `series` distinct series, each on its own line, all valid. */
  readonly make: (series: number) => string;
}

export const SHAPES: readonly Shape[] = [
  {
    name: "no labels",
    make: (series) => lines(series, (i) => `bench_metric_${i}_seconds ${i * 1.5}`),
  },
  {
    name: "2 labels, varying values",
    make: (series) => lines(series, (i) => `bench_requests_total{code="${200 + (i % 7)}",path="/api/v1/item/${i}"} ${i}`, "bench_requests_total counter"),
  },
  {
    name: "3 labels, varying values",
    make: (series) =>
      lines(series, (i) => `bench_series{shard="s${i % 100}",host="host-${i}.example.com",path="/var/lib/data/${i}"} ${i * 1.5}`, "bench_series gauge"),
  },
  {
    name: "10 labels",
    make: (series) =>
      lines(
        series,
        (i) =>
          `bench_wide{region="eu-${i % 3}",zone="z${i % 5}",cluster="c${i % 11}",namespace="ns-${i % 17}",pod="pod-${i}",container="app",` +
          `image="registry.example.com/app:1.${i % 9}",node="node-${i % 23}",team="team-${i % 4}",env="prod"} ${i}`,
        "bench_wide gauge",
      ),
  },
  {
    name: "long label values",
    make: (series) =>
      lines(series, (i) => `bench_long{query="SELECT * FROM table_${i % 50} WHERE id = ${i} AND name LIKE '%${"x".repeat(40)}%'",trace="${(i * 2654435761).toString(16).padStart(16, "0")}${"0".repeat(48)}"} ${i}`, "bench_long gauge"),
  },
  {
    name: "histograms",
    make: (series) => {
      const bounds = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
      const perFamily = bounds.length + 2;
      const out = ["# TYPE bench_request_seconds histogram"];
      for (let h = 0; h * perFamily < series; h++) {
        const labels = `handler="/h/${h}",method="${h % 2 ? "GET" : "POST"}"`;
        for (const [k, le] of bounds.entries()) out.push(`bench_request_seconds_bucket{${labels},le="${le}"} ${h + k}`);
        out.push(`bench_request_seconds_sum{${labels}} ${h * 0.37}`, `bench_request_seconds_count{${labels}} ${h + bounds.length}`);
      }
      return `${out.join("\n")}\n`;
    },
  },
];

function lines(series: number, line: (i: number) => string, type?: string): string {
  const out: string[] = type ? [`# TYPE ${type}`] : [];
  for (let i = 0; i < series; i++) out.push(line(i));
  return `${out.join("\n")}\n`;
}
