// Runs the Worker in miniflare (the one wrangler pins), configured by the JSON file named
// on the command line (written by runtime.py from wrangler.toml), until SIGTERM.
//
// miniflare simulates KV (persisted in the state folder), rate limits and the cron's
// test handler (/cdn-cgi/local/scheduled, as `wrangler dev --test-scheduled` serves it). The AI binding is workerd's own, as miniflare builds it for a remote binding,
// pointed at the local gateway (the real service is out of reach offline). One small
// worker of ours lets the Worker's own fetches reach loopback only.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";

const options = JSON.parse(readFileSync(process.argv[2], "utf8"));

const LOOPBACK_ONLY = `
export default {
  fetch(request) {
    const host = new URL(request.url).hostname;
    if (host === "127.0.0.1" || host === "localhost" || host === "[::1]") return fetch(request);
    return new Response("the local stack reaches loopback only: " + host, { status: 502 });
  },
};
`;

const modules = options.modules.map(({ name, type, file }) => ({
  type,
  path: join(options.modulesRoot, name),
  contents: readFileSync(file),
}));

const worker = {
  name: "main",
  modulesRoot: options.modulesRoot,
  modules,
  compatibilityDate: options.compatibilityDate,
  compatibilityFlags: options.compatibilityFlags,
  bindings: options.vars,
  kvNamespaces: options.kvNamespaces,
  ratelimits: options.ratelimits,
  unsafeDirectSockets: [{ host: "127.0.0.1", port: options.directPort }],
  outboundService: options.loopbackOnly ? "loopback-only" : undefined,
};
const workers = [
  worker,
  {
    name: "loopback-only",
    modules: true,
    script: LOOPBACK_ONLY,
    compatibilityDate: options.compatibilityDate,
  },
];
if (options.gatewayOrigin) {
  // workerd's own AI binding, as miniflare builds it for a remote binding: its requests
  // reach the local gateway, which answers the URL lookups the real service answers.
  worker.ai = {
    binding: options.aiBinding,
    remoteProxyConnectionString: new URL(`${options.gatewayOrigin}/`),
  };
}

const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: options.port,
    unsafeTriggerHandlers: true,
    resourcePersistencePath: options.persist,
    workers,
  }),
);
const url = await mf.ready;
console.log(`miniflare ready at ${url}`);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, async () => {
    await mf.dispose();
    process.exit(0);
  });
}
