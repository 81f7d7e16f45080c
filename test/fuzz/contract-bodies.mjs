// Prints the JSON bodies the fuzzer would send to the generic contract endpoints (orders, telephony events and
// CDRs), one JSON line { endpoint, raw } each (raw: the body text, as sent): the corpus validation.compiled.spec.ts runs both validators
// over. Pure: no network, no database, no build (signatures are stubbed; only bodies are kept).
// Usage: node test/fuzz/contract-bodies.mjs [cases] [seed]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { caseContext, makeCase } from './cases.mjs';
import { Rng } from './prng.mjs';

const [cases = '3000', seed = '20'] = process.argv.slice(2);
const SPEC = JSON.parse(readFileSync(join(import.meta.dirname, 'peers.json'), 'utf8')).peers;
const peers = Object.fromEntries(
  SPEC.map((p) => [
    p.role,
    { id: p.id, token: `sbp_${'T'.repeat(12)}_${'t'.repeat(38)}`, signingSecret: p.signingSecret },
  ]),
);
const stub = () => 'stub';
const sig = new Proxy({}, { get: () => stub });
const ctx = caseContext({ gatewayUrl: 'http://127.0.0.1:8080', peers, sig });
const GENERIC = ['/v1/website/orders', '/v1/telephony/events', '/v1/telephony/cdr'];
const out = [];
for (let i = 0; i < Number(cases); i++) {
  const req = makeCase(ctx, Number(seed), i);
  const endpoint = GENERIC.find((p) => req.path === p);
  if (!endpoint || !req.body.length) continue;
  out.push({ endpoint, raw: req.body.toString('utf8') });
}
// The valid samples too, so the corpus has bodies both validators must accept.
for (const t of ctx.targets.filter((t) => GENERIC.includes(t.path))) {
  for (let i = 0; i < 50; i++) out.push({ endpoint: t.path, raw: JSON.stringify(t.sample(new Rng(i + 1))) });
}
for (const line of out) process.stdout.write(`${JSON.stringify(line)}\n`);
