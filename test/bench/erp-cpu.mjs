// node test/bench/erp-cpu.mjs [--offers 20000] [--rounds 5]   (after `npm run build`)
// The 1C import's per-offer CPU in one process, without the network, the broker or PostgreSQL, so two builds can
// be compared on a shared machine where the end-to-end bench (`npm run bench -- --erp-only`) varies by ±30 %:
//   gateway side   — windows-1251 decoding, the streaming XML parse, CommerceML mapping, each fact validated
//                    against its contract, batching (CatalogBatcher) and JSON serialization of the batches;
//   connector side — JSON.parse of each batch, the batch's validation, and the SQL parameters of the three
//                    upserts (ProductRepository against a stand-in EntityManager that encodes them as pg does).
// It prints CPU ms per 1,000 offers for each round (user + system of this process) and the best round.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { generateCatalog } from './erp-catalog.mjs';

const ROOT = join(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const dist = (path) => require(join(ROOT, 'dist', path));
const { XmlStream } = dist('apps/gateway/src/erp/xml.js');
const { CatalogMapper } = dist('apps/gateway/src/erp/exchange/commerceml.js');
// The connector's own fact -> row mapping (the projector module), so the bench measures what runs.
const projector = dist('apps/erp-connector/src/catalog.projector.js');
// Builds before CatalogBatcher (for A/B runs against older commits) batched by count alone.
const { CatalogBatcher, catalogBatchJson } = (() => {
  try {
    return dist('apps/gateway/src/erp/exchange/catalog-batcher.js');
  } catch {
    return {
      CatalogBatcher: class {
        constructor(emit, max) {
          Object.assign(this, { emit, max, facts: { products: [], prices: [], stock: [] }, size: 0 });
        }
        add(kind, fact) {
          this.facts[kind].push(fact);
          if (++this.size >= this.max) this.flush();
        }
        flush() {
          if (this.size === 0) return;
          this.emit(this.facts);
          Object.assign(this, { facts: { products: [], prices: [], stock: [] }, size: 0 });
        }
      },
    };
  }
})();
const contracts = dist('libs/contracts/src/index.js');
const { ProductRepository } = dist('libs/crm/src/erp/product.repository.js');
const { prepareValue } = require('pg/lib/utils');

const args = process.argv.slice(2);
const flag = (name, dflt) =>
  args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : dflt;
const OFFERS = flag('offers', 20_000);
const ROUNDS = flag('rounds', 5);
const FACTS_PER_BATCH = 1000; // as the exchange sends them (FACTS_PER_BATCH in file-parse.ts)

const { importXml, offersXml } = generateCatalog(OFFERS);
const CLASS = {
  'erp.product.upserted': [contracts.ProductUpsertedV1, 'products'],
  'erp.price.updated': [contracts.PriceUpdatedV1, 'prices'],
  'erp.stock.updated': [contracts.StockUpdatedV1, 'stock'],
};
const cpuMs = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

function gatewaySide() {
  const messages = [];
  let seq = 0;
  for (const file of [importXml, offersXml]) {
    const mapper = new CatalogMapper(1);
    // Builds since facts are serialized as they are batched hand over their JSON; older ones the objects.
    const batcher = new CatalogBatcher(
      (facts) =>
        messages.push(
          catalogBatchJson
            ? `{"type":"erp.catalog.batch","payload":${catalogBatchJson(`b:${seq++}`, facts)}}`
            : JSON.stringify({ type: 'erp.catalog.batch', payload: { batchId: `b:${seq++}`, ...facts } }),
        ),
      FACTS_PER_BATCH,
    );
    const stream = new XmlStream(
      (path) => CatalogMapper.capture(path),
      (node) => {
        for (const e of mapper.onNode(node)) {
          const [cls, kind] = CLASS[e.type];
          batcher.add(kind, contracts.validateContract(cls, e.payload));
        }
      },
      (name, attrs) => mapper.onOpen(name, attrs),
    );
    // Builds since the tree skips what no mapping reads.
    if (CatalogMapper.prune) stream.prune = (p) => CatalogMapper.prune(p);
    for (let at = 0; at < file.length; at += 65536) stream.write(file.subarray(at, at + 65536));
    stream.end();
    batcher.flush();
  }
  return messages;
}

const repo = new ProductRepository();
const em = { query: async (_sql, params) => (params.forEach((p) => prepareValue(p)), []) };

async function connectorSide(messages) {
  const peerId = 'erp-bench';
  for (const message of messages) {
    const payload = JSON.parse(message).payload;
    // The projector's own batch path where the build has it (validation once, then one statement per kind).
    if (projector.projectCatalogBatch) {
      await projector.projectCatalogBatch(em, repo, peerId, projector.parseCatalogBatch(payload));
      continue;
    }
    const b = contracts.validateContract(contracts.CatalogBatchV1, payload);
    await repo.upsertProducts(
      em,
      b.products.map((p) => projector.productRow(peerId, p)),
    );
    await repo.upsertPrices(
      em,
      b.prices.map((p) => projector.priceSet(peerId, `${peerId}:${p.productExternalId}`, p)),
    );
    await repo.upsertStock(
      em,
      b.stock.map((s) => projector.stockRow(peerId, s)),
    );
  }
}

const rounds = { gateway: [], connector: [] };
for (let r = 0; r < ROUNDS; r++) {
  let t = process.cpuUsage();
  const messages = gatewaySide();
  rounds.gateway.push(cpuMs(t) / (OFFERS / 1000));
  t = process.cpuUsage();
  await connectorSide(messages);
  rounds.connector.push(cpuMs(t) / (OFFERS / 1000));
}
const show = (list) =>
  `best ${Math.min(...list).toFixed(0)} (rounds: ${list.map((x) => x.toFixed(0)).join(', ')})`;
console.log(
  `1C import CPU ms per 1,000 offers (${OFFERS.toLocaleString('en-US')} offers, in-process, no I/O)`,
);
console.log(`  gateway side:   ${show(rounds.gateway)}`);
console.log(`  connector side: ${show(rounds.connector)}`);
