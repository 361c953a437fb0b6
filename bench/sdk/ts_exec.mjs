// Exec round trips through the TypeScript SDK and through bare fetch, interleaved, in one process (bench/run's
// sdk section runs it; the SDK must be built: cd sdk/typescript && npm ci && npm run build).
// Usage: node ts_exec.mjs SANDBOX N WARM; BHATTI_URL/BHATTI_TOKEN name the daemon. Prints {"sdk": [ns...], "raw": [ns...]}.
import { Bhatti } from "../../sdk/typescript/dist/src/index.js";

const [sandbox, n, warm] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const url = process.env.BHATTI_URL.replace(/\/$/, "");
const token = process.env.BHATTI_TOKEN;
const sb = await new Bhatti().sandboxes.get(sandbox);

async function raw() {
  const r = await fetch(`${url}/sandboxes/${sb.id}/exec`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ cmd: ["true"] }),
  });
  if ((await r.json()).exit_code !== 0) throw new Error("true failed");
}

async function sdk() {
  if ((await sb.exec(["true"])).exitCode !== 0) throw new Error("true failed");
}

async function timed(f) {
  const t = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t);
}

for (let i = 0; i < warm; i++) { await sdk(); await raw(); }
const out = { sdk: [], raw: [] };
for (let i = 0; i < n; i++) { out.sdk.push(await timed(sdk)); out.raw.push(await timed(raw)); }
console.log(JSON.stringify(out));
