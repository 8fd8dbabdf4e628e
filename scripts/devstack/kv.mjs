// Reads or writes one key of the local stack's KV, in the state miniflare persists, for
// the operator scripts (`--local`) and the tests:
//   node kv.mjs <persist folder> <namespace id> get <key>        -> the value on stdout
//   node kv.mjs <persist folder> <namespace id> put <key> < value
// Exits 3 when the key is missing.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";

const [persist, namespace, command, key] = process.argv.slice(2);
const mf = new Miniflare(
  convertV4MiniflareOptions({
    resourcePersistencePath: persist,
    workers: [
      {
        name: "kv",
        modules: true,
        script: "export default { fetch() { return new Response(null, { status: 404 }); } };",
        compatibilityDate: "2026-11-01",
        kvNamespaces: { KV: namespace },
      },
    ],
  }),
);
let status = 0;
try {
  const kv = await mf.getKVNamespace("KV");
  if (command === "get") {
    const value = await kv.get(key);
    if (value === null) status = 3;
    else process.stdout.write(value);
  } else if (command === "put") {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    await kv.put(key, Buffer.concat(chunks).toString("utf8"));
  } else {
    console.error(`unknown command ${command}`);
    status = 2;
  }
} finally {
  await mf.dispose();
}
process.exit(status);
