import type { MetricType } from "./exposition/text-format.js";

/**
 * The families the Pushgateway exposes about itself on /metrics, beside everything pushed. A
 * pushed family of the same name but another type, or a family named like one of its summaries'
 * series, makes the gateway refuse the whole push (400, "gathered metric family … has type
 * UNTYPED but should have COUNTER"). Names under these prefixes that are not listed here are
 * free: the gateway has no such family.
 *
 * The set depends on the gateway's version (its Go client library's): this is the union of
 * 1.5.1's (Debian 12) and 1.11.2's (Debian unstable), so that a push never fails on either
 * because of one; the few that only one of them has are in GATEWAY_OWN_FAMILY_VERSIONS. Pushgw
 * does not ask the gateway its version for this (yet): refusing such a clash where the other
 * version would take it costs a name, missing one costs a wrapped job its whole outcome push.
 */
export const GATEWAY_OWN_FAMILIES: ReadonlyMap<string, MetricType> = new Map<string, MetricType>([
  ["go_gc_duration_seconds", "summary"],
  ["go_gc_gogc_percent", "gauge"],
  ["go_gc_gomemlimit_bytes", "gauge"],
  ["go_goroutines", "gauge"],
  ["go_info", "gauge"],
  ["go_memstats_alloc_bytes", "gauge"],
  ["go_memstats_alloc_bytes_total", "counter"],
  ["go_memstats_buck_hash_sys_bytes", "gauge"],
  ["go_memstats_frees_total", "counter"],
  ["go_memstats_gc_sys_bytes", "gauge"],
  ["go_memstats_heap_alloc_bytes", "gauge"],
  ["go_memstats_heap_idle_bytes", "gauge"],
  ["go_memstats_heap_inuse_bytes", "gauge"],
  ["go_memstats_heap_objects", "gauge"],
  ["go_memstats_heap_released_bytes", "gauge"],
  ["go_memstats_heap_sys_bytes", "gauge"],
  ["go_memstats_last_gc_time_seconds", "gauge"],
  ["go_memstats_lookups_total", "counter"],
  ["go_memstats_mallocs_total", "counter"],
  ["go_memstats_mcache_inuse_bytes", "gauge"],
  ["go_memstats_mcache_sys_bytes", "gauge"],
  ["go_memstats_mspan_inuse_bytes", "gauge"],
  ["go_memstats_mspan_sys_bytes", "gauge"],
  ["go_memstats_next_gc_bytes", "gauge"],
  ["go_memstats_other_sys_bytes", "gauge"],
  ["go_memstats_stack_inuse_bytes", "gauge"],
  ["go_memstats_stack_sys_bytes", "gauge"],
  ["go_memstats_sys_bytes", "gauge"],
  ["go_sched_gomaxprocs_threads", "gauge"],
  ["go_threads", "gauge"],
  ["process_cpu_seconds_total", "counter"],
  ["process_max_fds", "gauge"],
  ["process_network_receive_bytes_total", "counter"],
  ["process_network_transmit_bytes_total", "counter"],
  ["process_open_fds", "gauge"],
  ["process_resident_memory_bytes", "gauge"],
  ["process_start_time_seconds", "gauge"],
  ["process_virtual_memory_bytes", "gauge"],
  ["process_virtual_memory_max_bytes", "gauge"],
  ["pushgateway_build_info", "gauge"],
  ["pushgateway_http_push_duration_seconds", "summary"],
  ["pushgateway_http_push_size_bytes", "summary"],
  ["pushgateway_http_requests_total", "counter"],
]);

/** Those of GATEWAY_OWN_FAMILIES that one of the two gateway versions has and the other has not. */
export const GATEWAY_OWN_FAMILY_VERSIONS: ReadonlyMap<string, string> = new Map([
  ["go_gc_gogc_percent", "Pushgateway 1.11.2's, not 1.5.1's"],
  ["go_gc_gomemlimit_bytes", "Pushgateway 1.11.2's, not 1.5.1's"],
  ["go_sched_gomaxprocs_threads", "Pushgateway 1.11.2's, not 1.5.1's"],
  ["process_network_receive_bytes_total", "Pushgateway 1.11.2's, not 1.5.1's"],
  ["process_network_transmit_bytes_total", "Pushgateway 1.11.2's, not 1.5.1's"],
  ["go_memstats_lookups_total", "Pushgateway 1.5.1's, gone in 1.11.2"],
]);

/**
 * The HELP of the gateway's own families that it creates only once it has served a request (a
 * vector with no series at start-up). It gives a pushed family named like one of its own its
 * own HELP, but knows only those it had at start-up: for these three, a pushed family with
 * another HELP (or none) is taken, and then the gateway fails to serve /metrics ("has help ""
 * but should have …") and refuses every later push until the group is deleted.
 */
export const GATEWAY_LATE_FAMILY_HELP: ReadonlyMap<string, string> = new Map([
  ["pushgateway_http_push_duration_seconds", "HTTP request duration for pushes to the Pushgateway."],
  ["pushgateway_http_push_size_bytes", "HTTP request size for pushes to the Pushgateway."],
  ["pushgateway_http_requests_total", "Total HTTP requests processed by the Pushgateway, excluding scrapes."],
]);

/** How a pushed family clashes with one of the gateway's own, or undefined when it does not. */
export function gatewayFamilyClash(name: string, type: MetricType): { readonly own: string; readonly ownType: MetricType } | undefined {
  // Every own name starts with "g" or "p": most names are ruled out without a lookup.
  const first = name.charCodeAt(0);
  if (first !== 0x67 && first !== 0x70) return undefined;
  const ownType = GATEWAY_OWN_FAMILIES.get(name);
  if (ownType !== undefined) return ownType === type ? undefined : { own: name, ownType };
  // `go_gc_duration_seconds_count` as a family of its own collides with the gateway's summary.
  for (const suffix of ["_sum", "_count", "_bucket"]) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const baseType = GATEWAY_OWN_FAMILIES.get(base);
    if (baseType === "histogram" || (baseType === "summary" && suffix !== "_bucket")) return { own: base, ownType: baseType };
  }
  return undefined;
}
