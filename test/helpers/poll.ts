/**
 * Reads until `ok` holds or `ms` have passed, and returns the last reading either way, so that
 * the test's own assertion on it says what was wrong. For state that settles on its own (a
 * Prometheus scrape, a rule evaluation), instead of a fixed sleep.
 */
export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    value = await read();
  }
  return value;
}
