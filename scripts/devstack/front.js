// The local runtime's front door (never deployed): every request goes on to the Worker
// unchanged, except the scheduled test handler that `wrangler dev --test-scheduled`
// also serves, which runs the Worker's real `scheduled()`:
//   curl -X POST 'http://127.0.0.1:8787/cdn-cgi/handler/scheduled?cron=0+*+*+*+*'
const SCHEDULED = "/cdn-cgi/handler/scheduled";
const HOURLY = "0 * * * *";

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== SCHEDULED) {
      return env.WORKER.fetch(request);
    }
    const cron = url.searchParams.get("cron") ?? HOURLY;
    const result = await env.WORKER.scheduled({ cron, scheduledTime: Date.now() });
    const ok = result.outcome === "ok";
    return new Response(`scheduled() ${result.outcome}\n`, { status: ok ? 200 : 500 });
  },
};
