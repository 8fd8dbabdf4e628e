// Profile the Worker's request path on Pyodide 314 (Python 3.14) under Node, where
// timers run (inside workerd they are frozen). The Worker's own modules run unchanged:
// the runtime's bindings are small JavaScript stand-ins and `fetch` answers at once.
//   node benchmarks/profile/driver.mjs <worker folder> <python_modules folder> <fixture.json>
// (benchmarks/profile_request.py lays these out and runs it.)
import { loadPyodide } from "pyodide";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const [workerDir, vendoredDir, fixtureFile] = process.argv.slice(2);
const fixture = JSON.parse(readFileSync(fixtureFile, "utf8"));
const here = dirname(fileURLToPath(import.meta.url));
const pyodide = await loadPyodide({ stdout: (line) => process.stdout.write(`${line}\n`) });
// The Worker logs one line per request through console.log; a profile does not need them.
console.log = () => {};
pyodide.FS.mkdirTree("/worker");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: workerDir }, "/worker");
pyodide.FS.mkdirTree("/vendored");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: vendoredDir }, "/vendored");

globalThis.fetch = async (url) =>
  String(url).endsWith("/cdn-cgi/access/certs")
    ? Response.json(fixture.certs)
    : new Response('{"id":"resp_profile","status":"completed"}', {
        status: 200,
        headers: { "content-type": "application/json" },
      });
const kv = new Map();
const namespace = {
  get: async (key) => (kv.has(key) ? kv.get(key) : null),
  put: async (key, value) => void kv.set(key, value),
};
globalThis.profileEnv = {
  CATALOG: namespace,
  USERS: namespace,
  AI: { gateway: (id) => ({ getUrl: async (p) => `https://gateway.example/v1/acct/${id}/${p}` }) },
  // The brake's binding, always under the limit: its cost here is the call's own.
  USER_LIMIT: { limit: async () => ({ success: true }) },
};
// The deferred work is already scheduled on the event loop; workerd would keep the
// request alive for it, which a profile does not need.
globalThis.profileCtx = { waitUntil: () => {} };
globalThis.profileSettings = fixture.settings;
globalThis.makeRequest = () =>
  new Request("https://ai.example.com/openai/v1/responses", {
    method: "POST",
    body: '{"model":"gpt-5","input":"hello"}',
    headers: {
      "cf-access-token": fixture.token,
      "content-type": "application/json",
      "accept": "application/json",
      "user-agent": "opencode/1.18.33 ai-sdk/provider-utils/3.0",
      "x-api-key": "",
      "anthropic-version": "2023-06-01",
    },
  });
pyodide.runPython(readFileSync(join(here, "request_path.py"), "utf8"));
await pyodide.globals.get("main")(fixture.requests);
