// Runs a staged Worker (scripts/offline_runtime.py's layout) with miniflare's Node API:
// one workerd process, no `wrangler dev` proxy in front. Used by the benchmark only.
//   node benchmarks/miniflare_direct.mjs <staged dir> <port> <vars.json>
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Miniflare } = require("../node_modules/wrangler-offline/node_modules/miniflare");

const [staged, port, varsFile] = process.argv.slice(2);
const src = join(staged, "src");
const modules = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(".py") || name.endsWith(".json")) {
      modules.push({
        type: name.endsWith(".py") ? "PythonModule" : "Data",
        path,
        contents: readFileSync(path),
      });
    }
  }
}
walk(src);
const main = modules.findIndex((m) => m.path === join(src, "offline_entry.py"));
modules.unshift(...modules.splice(main, 1));

const mf = new Miniflare({
  modules,
  modulesRoot: src,
  compatibilityDate: "2024-11-06",
  compatibilityFlags: ["python_workers"],
  kvNamespaces: ["CATALOG", "USERS"],
  kvPersist: join(staged, "miniflare-kv"),
  bindings: JSON.parse(readFileSync(varsFile, "utf8")),
  host: "127.0.0.1",
  port: Number(port),
});
await mf.ready;
console.log(`ready on ${port}`);
process.on("SIGTERM", async () => { await mf.dispose(); process.exit(0); });
