import { describe, expect, it } from "vitest";
import { checkSpooledCall, directoryProblem, MAX_SPOOLED_BODY_BYTES, spoolFolderName, utf8Length, type DirectoryFacts } from "../../src/core/spool.js";

const BASE = "http://127.0.0.1:9091";
const FOLDER = spoolFolderName(BASE);
const good = { version: 1, method: "POST", baseUrl: BASE, path: "/metrics/job/backup/instance/db-1", body: "m 1\n", savedAt: 1_800_000_000_000 };

describe("spoolFolderName", () => {
  it.each([
    ["http://127.0.0.1:9091", /^127\.0\.0\.1_9091-[0-9a-f]{12}$/],
    ["https://pgw.example", /^pgw\.example_443-[0-9a-f]{12}$/],
    ["http://pgw.example/prefix", /^pgw\.example_80-[0-9a-f]{12}$/],
    ["http://[::1]:9091", /^___1__9091-[0-9a-f]{12}$/],
  ])("%s", (baseUrl, pattern) => {
    expect(spoolFolderName(baseUrl)).toMatch(pattern);
  });

  it("differs for every base URL, path prefix included", () => {
    expect(spoolFolderName("http://pgw.example/a")).not.toBe(spoolFolderName("http://pgw.example/b"));
  });
});

describe("checkSpooledCall: what pushgw writes is accepted", () => {
  it.each([
    ["a POST", good],
    ["a PUT", { ...good, method: "PUT" }],
    ["a DELETE without a body", { version: 1, method: "DELETE", baseUrl: BASE, path: "/metrics/job/backup", savedAt: 1 }],
    ["an empty body", { ...good, body: "" }],
    ["base64 values", { ...good, path: "/metrics/job@base64/YS9i/path@base64/L3Zhci90bXA" }],
    ["a gateway with a path prefix", { ...good, baseUrl: "https://pgw.example/pushgateway" }, spoolFolderName("https://pgw.example/pushgateway")],
  ])("%s", (_, value, folder = FOLDER) => {
    expect(checkSpooledCall(value, folder)).toEqual({ call: value });
  });
});

describe("checkSpooledCall: anything else is refused, saying why", () => {
  it.each([
    ["not an object", [good], /not a JSON object/],
    ["null", null, /not a JSON object/],
    ["a number", 1, /not a JSON object/],
    ["only a version (flush crashed with exit 70)", { version: 1 }, /method undefined is not PUT, POST or DELETE/],
    ["no baseUrl", { ...good, baseUrl: undefined }, /gateway \(baseUrl\) is missing/],
    ["an extra field", { ...good, headers: { authorization: "x" } }, /field pushgw never writes: "headers"/],
    ["version 2", { ...good, version: 2 }, /version is 2, not 1/],
    ["version as text", { ...good, version: "1" }, /version is "1", not 1/],
    ["GET", { ...good, method: "GET" }, /method "GET" is not PUT, POST or DELETE/],
    ["lower-case post", { ...good, method: "post" }, /method "post"/],
    ["the issue's theft path", { ...good, path: "@127.0.0.1:52051/steal" }, /path "@127.0.0.1:52051\/steal" is not a grouping-key path: it does not start with \/metrics\//],
    ["a path with an authority", { ...good, path: "/metrics/job/x/a/@evil" }, /not a grouping-key path/],
    ["a path pushgw would spell otherwise", { ...good, path: "/metrics/job@base64/YQ" }, /not the path pushgw builds for that group \("\/metrics\/job\/a"\)/],
    ["a path that is a number", { ...good, path: 5 }, /path is not text: 5/],
    ["no path", { ...good, path: undefined }, /path is missing/],
    ["another gateway than the folder's", { ...good, baseUrl: "http://127.0.0.1:52051" }, /names the gateway "http:\/\/127.0.0.1:52051", but lies in another gateway's folder/],
    ["credentials in the gateway", { ...good, baseUrl: "http://u:p@127.0.0.1:9091" }, /not a base URL pushgw writes/],
    ["a trailing slash", { ...good, baseUrl: `${BASE}/` }, /not a base URL pushgw writes/],
    ["a query", { ...good, baseUrl: `${BASE}?x=1` }, /not a base URL pushgw writes/],
    ["no scheme", { ...good, baseUrl: "127.0.0.1:9091" }, /not a base URL pushgw writes/],
    ["a file URL", { ...good, baseUrl: "file:///etc/passwd" }, /not a base URL pushgw writes/],
    ["a numeric body (blocked the queue as 'could not connect')", { ...good, body: 42 }, /body is not text: 42/],
    ["no body for a POST", { ...good, body: undefined }, /body is missing/],
    ["a DELETE with a body", { ...good, method: "DELETE" }, /DELETE with a body/],
    ["a body past the bound", { ...good, body: "x".repeat(MAX_SPOOLED_BODY_BYTES + 1) }, /body is larger than/],
    ["savedAt as text", { ...good, savedAt: "yesterday" }, /savedAt\) is not a number: "yesterday"/],
    ["savedAt missing", { ...good, savedAt: undefined }, /savedAt\) is missing/],
    ["savedAt infinite (JSON cannot, but a parser might)", { ...good, savedAt: Infinity }, /savedAt\) is not a number/],
    ["terminal escapes in a field", { ...good, method: "\u001b]0;owned\u0007" }, /method "\\u001b\]0;owned\\u0007"/],
  ])("%s", (_, value, problem) => {
    const checked = checkSpooledCall(value, FOLDER);
    expect("problem" in checked && checked.problem).toMatch(problem);
  });

  it("quotes at most 80 characters of a value", () => {
    const checked = checkSpooledCall({ ...good, method: "x".repeat(10_000) }, FOLDER);
    expect("problem" in checked && checked.problem.length).toBeLessThan(150);
  });
});

describe("utf8Length", () => {
  it.each(["", "a", "é", "€", "🚀", "a🚀é€\n", "\ud800"])("%j", (text) => {
    expect(utf8Length(text)).toBe(Buffer.byteLength(text, "utf8"));
  });
});

describe("directoryProblem", () => {
  const me = 1000;
  const dir = (facts: Partial<DirectoryFacts>): DirectoryFacts => ({ path: "/var/spool/pushgw", isDirectory: true, isSymbolicLink: false, uid: me, mode: 0o40700, ...facts });

  it.each([
    ["0700, mine", dir({})],
    ["0755, mine", dir({ mode: 0o40755 })],
    ["0500, mine", dir({ mode: 0o40500 })],
  ])("a spool directory %s is fine", (_, facts) => {
    expect(directoryProblem(facts, me, "spool")).toBeUndefined();
  });

  it.each([
    ["writable by others", dir({ mode: 0o40777 }), /writable by others \(mode 0777\)/, /chmod 700 \/var\/spool\/pushgw/],
    ["writable by its group", dir({ mode: 0o40770 }), /writable by its group \(mode 0770\)/, /chmod 700/],
    ["sticky but writable by others", dir({ mode: 0o41777 }), /writable by others \(mode 1777\)/, /chmod 700/],
    ["someone else's", dir({ uid: 1001 }), /belongs to uid 1001, not to uid 1000/, /chown 1000 \/var\/spool\/pushgw/],
    ["root's, for a user", dir({ uid: 0 }), /belongs to uid 0/, /chown/],
    ["a symbolic link", dir({ isSymbolicLink: true, isDirectory: false }), /is a symbolic link/, /only real directories/],
    ["a file", dir({ isDirectory: false, mode: 0o100600 }), /is not a directory/, /give a directory/],
  ])("a spool directory %s is refused", (_, facts, problem, hint) => {
    const found = directoryProblem(facts, me, "spool");
    expect(found?.problem).toMatch(problem);
    expect(found?.hint).toMatch(hint);
  });

  it.each([
    ["root's, 0755", dir({ uid: 0, mode: 0o40755 })],
    ["mine, 0700", dir({})],
    ["/tmp: root's, 1777", dir({ path: "/tmp", uid: 0, mode: 0o41777 })],
    ["group-writable (only others are refused above the spool)", dir({ uid: 0, mode: 0o42775 })],
  ])("a parent %s is fine", (_, facts) => {
    expect(directoryProblem(facts, me, "parent")).toBeUndefined();
  });

  it.each([
    ["writable by others without the sticky bit", dir({ path: "/srv/drop", uid: 0, mode: 0o40777 }), /parent \/srv\/drop is writable by others without the sticky bit \(mode 0777\)/],
    ["another user's", dir({ path: "/home/mallory", uid: 1001, mode: 0o40755 }), /parent \/home\/mallory belongs to uid 1001, neither root nor uid 1000/],
  ])("a parent %s is refused", (_, facts, problem) => {
    expect(directoryProblem(facts, me, "parent")?.problem).toMatch(problem);
  });
});
