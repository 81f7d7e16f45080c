// The ERP phase of `npm run bench` (issue 15): a generated 1C catalog (import.xml + offers.xml, windows-1251,
// zipped) driven through the gateway's 1C exchange exactly as 1C drives it — checkauth -> init -> file (the zip
// in file_limit chunks) -> import import.xml (progress ... success) -> import offers.xml (progress ... success) —
// and projected by the erp-connector. Measured: offers/s from the first chunk until every product, price and
// stock row is in PostgreSQL, and the peak RSS of the gateway and the erp-connector (started, like every app,
// with the production V8 heap flags: test/support/processes.mjs -> config/scripts/v8-flags.mjs).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sleep, stopProcess } from '../support/processes.mjs';

const require = createRequire(import.meta.url);
const iconv = require('iconv-lite');
const { ZipFile } = require('yazl');

/** Issue 15's budget. */
export const ERP_TARGET_OFFERS_PER_SECOND = 5000;
export const ERP_RSS_LIMIT_MB = 300;
const PRICE_TYPES = [
  { id: 'bd72d8f9-55bc-11d9-848a-00112f43529a', name: 'Розничная' },
  { id: 'bd72d8fa-55bc-11d9-848a-00112f43529a', name: 'Оптовая' },
];
const WAREHOUSES = [
  { id: '3dd5b8e0-5c4b-11e0-8e6a-0019d11ffeaf', name: 'Основной склад' },
  { id: '3dd5b8e1-5c4b-11e0-8e6a-0019d11ffeaf', name: 'Склад №2 (Москва)' },
];
const GROUPS = 40;

/** A deterministic 1C-style GUID for (kind, n): the same catalog on every run. */
function guid(kind, n) {
  const h = createHash('sha1').update(`${kind}:${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Deterministic "random" integers from the index (no RNG state: any offer can be regenerated alone). */
const pick = (n, salt, mod) => ((Math.imul(n + 1, 2654435761) ^ Math.imul(salt, 40503)) >>> 0) % mod;
const priceOf = (n, t) => ((pick(n, 7 + t, 1_000_000) % 900_000) + 10_000) / 100 / (t + 1);
const qtyOf = (n, w) => pick(n, 11 + w, 1000) % 500;

/**
 * import.xml and offers.xml of `count` products in windows-1251, shaped like a 1C "УТ 11" upload: a classifier with
 * two levels of groups and a property with a dictionary; products with Ид, Артикул, name, unit, group, property
 * values and requisites; offers with two price types and stock in two warehouses. ~1 KB of XML per product.
 */
export function generateCatalog(count) {
  const groups = [];
  for (let g = 0; g < GROUPS; g++) {
    groups.push(
      `<Группа><Ид>${guid('g', g)}</Ид><Наименование>Группа ${g}</Наименование><Группы>` +
        `<Группа><Ид>${guid('sg', g)}</Ид><Наименование>Подгруппа ${g} «Сапоги»</Наименование></Группа>` +
        `</Группы></Группа>`,
    );
  }
  const head =
    `<?xml version="1.0" encoding="windows-1251"?>\n<КоммерческаяИнформация ВерсияСхемы="2.05" ДатаФормирования="2026-12-07T03:00:00">\n` +
    `<Классификатор><Ид>${guid('c', 0)}</Ид><Наименование>Классификатор (Основной каталог товаров)</Наименование>` +
    `<Группы>${groups.join('')}</Группы><Свойства><Свойство><Ид>${guid('p', 0)}</Ид><Наименование>Цвет</Наименование>` +
    `<ТипЗначений>Справочник</ТипЗначений><ВариантыЗначений>` +
    ['Чёрный', 'Белый', 'Красный', 'Синий']
      .map(
        (v, i) =>
          `<Справочник><ИдЗначения>${guid('pv', i)}</ИдЗначения><Значение>${v}</Значение></Справочник>`,
      )
      .join('') +
    `</ВариантыЗначений></Свойство></Свойства></Классификатор>\n` +
    `<Каталог СодержитТолькоИзменения="false"><Ид>${guid('c', 0)}</Ид><ИдКлассификатора>${guid('c', 0)}</ИдКлассификатора>` +
    `<Наименование>Основной каталог товаров</Наименование><Товары>\n`;
  const products = [];
  for (let n = 0; n < count; n++) {
    products.push(
      `<Товар><Ид>${guid('i', n)}</Ид><Артикул>А-${String(n).padStart(6, '0')}</Артикул>` +
        `<Наименование>Сапоги женские зимние, модель ${n}</Наименование>` +
        `<БазоваяЕдиница Код="796" НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница>` +
        `<Группы><Ид>${guid('sg', n % GROUPS)}</Ид></Группы>` +
        `<Описание>Натуральная кожа, размер ${36 + (n % 6)}</Описание>` +
        `<ЗначенияСвойств><ЗначенияСвойства><Ид>${guid('p', 0)}</Ид><Значение>${guid('pv', n % 4)}</Значение></ЗначенияСвойства></ЗначенияСвойств>` +
        `<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка></СтавкаНалога></СтавкиНалогов>` +
        `<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита>` +
        `<ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>` +
        `</Товар>\n`,
    );
  }
  const importXml = iconv.encode(
    head + products.join('') + `</Товары></Каталог></КоммерческаяИнформация>\n`,
    'win1251',
  );
  const offers = [];
  for (let n = 0; n < count; n++) {
    const qty = WAREHOUSES.map((_, w) => qtyOf(n, w));
    offers.push(
      `<Предложение><Ид>${guid('i', n)}</Ид><Артикул>А-${String(n).padStart(6, '0')}</Артикул>` +
        `<Наименование>Сапоги женские зимние, модель ${n}</Наименование>` +
        `<БазоваяЕдиница Код="796" НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница><Цены>` +
        PRICE_TYPES.map(
          (t, i) =>
            `<Цена><Представление>${priceOf(n, i).toFixed(2)} руб. за шт</Представление><ИдТипаЦены>${t.id}</ИдТипаЦены>` +
            `<ЦенаЗаЕдиницу>${priceOf(n, i).toFixed(2)}</ЦенаЗаЕдиницу><Валюта>руб</Валюта><Единица>шт</Единица><Коэффициент>1</Коэффициент></Цена>`,
        ).join('') +
        `</Цены><Количество>${qty[0] + qty[1]}</Количество>` +
        WAREHOUSES.map((w, i) => `<Склад ИдСклада="${w.id}" КоличествоНаСкладе="${qty[i]}"/>`).join('') +
        `</Предложение>\n`,
    );
  }
  const offersXml = iconv.encode(
    `<?xml version="1.0" encoding="windows-1251"?>\n<КоммерческаяИнформация ВерсияСхемы="2.05" ДатаФормирования="2026-12-07T03:00:00">\n` +
      `<ПакетПредложений СодержитТолькоИзменения="false"><Ид>${guid('c', 0)}#</Ид><Наименование>Пакет предложений</Наименование>` +
      `<ИдКаталога>${guid('c', 0)}</ИдКаталога><ИдКлассификатора>${guid('c', 0)}</ИдКлассификатора><ТипыЦен>` +
      PRICE_TYPES.map(
        (t) =>
          `<ТипЦены><Ид>${t.id}</Ид><Наименование>${t.name}</Наименование><Валюта>RUB</Валюта></ТипЦены>`,
      ).join('') +
      `</ТипыЦен><Склады>` +
      WAREHOUSES.map((w) => `<Склад><Ид>${w.id}</Ид><Наименование>${w.name}</Наименование></Склад>`).join(
        '',
      ) +
      `</Склады><Предложения>\n` +
      offers.join('') +
      `</Предложения></ПакетПредложений></КоммерческаяИнформация>\n`,
    'win1251',
  );
  return { importXml, offersXml, priceTypes: PRICE_TYPES.length, warehouses: WAREHOUSES.length };
}

/** A zip of the entries, as 1C sends with zip=yes (fixed mtime: the same bytes every run). */
export function zipOf(entries) {
  const z = new ZipFile();
  const mtime = new Date('2026-12-07T00:00:00Z');
  for (const [name, data] of Object.entries(entries)) z.addBuffer(data, name, { mtime });
  z.end();
  return new Promise((resolve, reject) => {
    const parts = [];
    z.outputStream.on('data', (d) => parts.push(d));
    z.outputStream.on('end', () => resolve(Buffer.concat(parts)));
    z.outputStream.on('error', reject);
  });
}

/**
 * Runs the phase. `startApp(app, env, name)` and `createPeer(env, opts)` come from run.mjs; `procStats(pid)` reads
 * /proc. Returns the figures for the report.
 */
export async function runErpCatalog({
  offers,
  ns,
  databaseUrl,
  appEnv,
  secrets,
  startApp,
  createPeer,
  freePort,
  procStats,
  log,
  logDir,
}) {
  const gatewayLog = join(logDir, 'gateway-erp.log');
  const peerId = 'bench-1c';
  const token = await createPeer(
    { ...secrets, DATABASE_URL: databaseUrl },
    { id: peerId, kind: 'erp', scopes: 'erp.*', provider: '1c' },
  );
  const t0 = Date.now();
  const { importXml, offersXml, priceTypes } = generateCatalog(offers);
  const zip = await zipOf({ 'import.xml': importXml, 'offers.xml': offersXml });
  const generatedSeconds = (Date.now() - t0) / 1000;
  log(
    `erp: ${offers} offers generated in ${generatedSeconds.toFixed(1)} s: import.xml ${(importXml.length / 2 ** 20).toFixed(1)} MB, ` +
      `offers.xml ${(offersXml.length / 2 ** 20).toFixed(1)} MB (windows-1251), zip ${(zip.length / 2 ** 20).toFixed(1)} MB`,
  );
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const procs = {};
  let sampler;
  try {
    const [gwPort, ecPort] = [await freePort(), await freePort()];
    const env = {
      ...appEnv,
      AMQP_NAMESPACE: `${ns}e`,
      GATEWAY_PORT: String(gwPort),
      ERP_CONNECTOR_PORT: String(ecPort),
      WEBSITE_CONNECTOR_PORT: undefined,
      TELEPHONY_CONNECTOR_PORT: undefined,
      // 1C asks again every step; a short step shows progress as 1C's operator would see it.
      ERP_IMPORT_STEP_SECONDS: '5',
      // The gateway logs each import's parse and publish seconds at info.
      LOG_LEVEL: 'info',
    };
    const started = await Promise.allSettled([
      startApp('gateway', { ...env, ERP_CONNECTOR_PORT: undefined }, 'gateway-erp'),
      startApp('erp-connector', { ...env, GATEWAY_PORT: undefined }, 'erp-connector'),
    ]);
    started.forEach((r, i) => {
      if (r.status === 'fulfilled') procs[i === 0 ? 'gateway' : 'erp-connector'] = r.value;
    });
    for (const r of started) if (r.status === 'rejected') throw r.reason;

    const base = `http://127.0.0.1:${gwPort}/v1/providers/1c/${peerId}/exchange`;
    const call = async (query, { cookie, body, basic } = {}) => {
      const headers = {};
      if (cookie) headers.cookie = cookie;
      if (basic) headers.authorization = `Basic ${Buffer.from(`${peerId}:${token}`).toString('base64')}`;
      if (body) headers['content-type'] = 'application/octet-stream';
      const res = await fetch(`${base}?${query}`, { method: body ? 'POST' : 'GET', headers, body });
      return (await res.text()).split('\n');
    };
    // The gateway learns of the new credential by LISTEN/NOTIFY.
    let auth;
    for (const deadline = Date.now() + 20_000; ; await sleep(500)) {
      auth = await call('type=catalog&mode=checkauth', { basic: true });
      if (auth[0] === 'success' || Date.now() > deadline) break;
    }
    if (auth[0] !== 'success') throw new Error(`erp: checkauth failed: ${auth.join(' ')}`);
    const cookie = `${auth[1]}=${auth[2]}`;
    const init = await call('type=catalog&mode=init', { cookie });
    const fileLimit = Number(/^file_limit=(\d+)$/.exec(init[1] ?? '')?.[1]);
    if (init[0] !== 'zip=yes' || !fileLimit) throw new Error(`erp: init answered ${init.join(' ')}`);

    // The PostgreSQL backends of this database (the apps' pools live through the phase), but for the bench's own:
    // its row-count polls (three count(*) every 100 ms over tables of up to 200,000 rows) are not the import's
    // work, and were counted in the PostgreSQL figure until 2026-12-07 (about a fifth of it in a 20,000-offer run).
    const backends = async () =>
      (
        await db.query(
          'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        )
      ).rows.map((r) => r.pid);
    const pg0 = new Map((await backends()).map((pid) => [pid, procStats(pid)?.cpuSeconds ?? 0]));
    const peak = Object.fromEntries(Object.keys(procs).map((n) => [n, 0]));
    const cpu0 = Object.fromEntries(
      Object.entries(procs).map(([n, p]) => [n, procStats(p.pid)?.cpuSeconds ?? 0]),
    );
    sampler = setInterval(() => {
      for (const [n, p] of Object.entries(procs)) peak[n] = Math.max(peak[n], procStats(p.pid)?.rss ?? 0);
    }, 200);

    const marks = {};
    const startedAt = Date.now();
    let chunks = 0;
    for (let at = 0; at < zip.length; at += fileLimit) {
      const r = await call('type=catalog&mode=file&filename=import_files.zip', {
        cookie,
        body: zip.subarray(at, at + fileLimit),
      });
      if (r[0] !== 'success') throw new Error(`erp: file chunk refused: ${r.join(' ')}`);
      chunks++;
    }
    marks.uploaded = Date.now();
    let progressAnswers = 0;
    // The events the gateway published ("success\nN events accepted"): once the connector holds an inbox
    // marker for each, their rows are committed (the marker is written in the same transaction).
    let events = 0;
    for (const filename of ['import.xml', 'offers.xml']) {
      for (;;) {
        const r = await call(`type=catalog&mode=import&filename=${filename}`, { cookie });
        if (r[0] === 'progress') {
          progressAnswers++;
          continue;
        }
        if (r[0] !== 'success') throw new Error(`erp: import ${filename}: ${r.join(' ')}`);
        events += Number(/^(\d+) events/.exec(r[1] ?? '')?.[1] ?? 0);
        break;
      }
      marks[filename] = Date.now();
    }
    const want = { products: offers, prices: offers * priceTypes, stock: offers };
    let have;
    // A loaded machine stretches this: 10 min plus 1 s per 100 offers.
    for (const deadline = Date.now() + 600_000 + offers * 10; ; await sleep(100)) {
      // The cheap probe first: counting 300,000+ rows took ~57 ms of a core every 100 ms, taken from the
      // connector and PostgreSQL while they finish the import. The rows are counted once the markers are in.
      const markers = await db.query(
        `SELECT count(*)::int AS n FROM processed_events WHERE consumer = 'erp-connector' AND peer_id = $1`,
        [peerId],
      );
      if (markers.rows[0].n < events && Date.now() <= deadline) continue;
      const { rows } = await db.query(
        `SELECT (SELECT count(*) FROM products WHERE peer_id = $1)::int AS products,
                (SELECT count(*) FROM product_prices WHERE peer_id = $1)::int AS prices,
                (SELECT count(*) FROM product_stock WHERE peer_id = $1)::int AS stock`,
        [peerId],
      );
      have = rows[0];
      if (have.products >= want.products && have.prices >= want.prices && have.stock >= want.stock) break;
      if (Date.now() > deadline) throw new Error(`erp: rows when time ran out: ${JSON.stringify(have)}`);
    }
    const doneAt = Date.now();
    clearInterval(sampler);
    let postgresCpu = 0;
    for (const pid of await backends())
      postgresCpu += (procStats(pid)?.cpuSeconds ?? 0) - (pg0.get(pid) ?? 0);
    const seconds = (doneAt - startedAt) / 1000;
    const cpu = Object.fromEntries(
      Object.entries(procs).map(([n, p]) => [n, +((procStats(p.pid)?.cpuSeconds ?? 0) - cpu0[n]).toFixed(1)]),
    );
    cpu.postgres = +postgresCpu.toFixed(1);
    // The machine-independent figure: CPU per 1000 offers, per process (a loaded machine stretches wall time).
    const cpuMsPer1000 = Object.fromEntries(
      Object.entries(cpu).map(([n, c]) => [n, Math.round((c * 1e6) / offers)]),
    );
    const imports = [
      ...readFileSync(gatewayLog, 'utf8').matchAll(
        /"message":"[^"]*: ([\w.]+) imported, (\d+) events, (\d+) elements; parse ([\d.]+) s, publish ([\d.]+) s"/g,
      ),
    ].map((m) => ({
      file: m[1],
      events: +m[2],
      elements: +m[3],
      parseSeconds: +m[4],
      publishSeconds: +m[5],
    }));
    const result = {
      offers,
      xmlMB: +((importXml.length + offersXml.length) / 2 ** 20).toFixed(1),
      zipMB: +(zip.length / 2 ** 20).toFixed(2),
      chunks,
      progressAnswers,
      seconds: +seconds.toFixed(1),
      offersPerSecond: Math.round(offers / seconds),
      timeline: {
        uploadSeconds: +((marks.uploaded - startedAt) / 1000).toFixed(1),
        importXmlSuccessSeconds: +((marks['import.xml'] - startedAt) / 1000).toFixed(1),
        offersXmlSuccessSeconds: +((marks['offers.xml'] - startedAt) / 1000).toFixed(1),
        rowsSeconds: +seconds.toFixed(1),
      },
      cpuSeconds: cpu,
      cpuMsPer1000Offers: cpuMsPer1000,
      imports,
      load: loadavg().map((l) => +l.toFixed(1)),
      peakRssMB: Object.fromEntries(Object.entries(peak).map(([n, b]) => [n, Math.round(b / 2 ** 20)])),
      rows: have,
      target: ERP_TARGET_OFFERS_PER_SECOND,
      rssLimitMB: ERP_RSS_LIMIT_MB,
    };
    result.pass =
      result.offersPerSecond >= ERP_TARGET_OFFERS_PER_SECOND &&
      Object.values(result.peakRssMB).every((mb) => mb <= ERP_RSS_LIMIT_MB);
    return result;
  } finally {
    clearInterval(sampler);
    await db.end().catch(() => undefined);
    for (const p of Object.values(procs)) await stopProcess(p);
  }
}

export function erpMarkdown(e) {
  return [
    '',
    `ERP 1C catalog (${e.offers.toLocaleString('en-US')} offers, ${e.xmlMB} MB of windows-1251 XML zipped to ${e.zipMB} MB, ${e.chunks} chunk(s); first chunk → every row in PostgreSQL):`,
    '',
    '| offers/s | seconds | upload s | import.xml success s | offers.xml success s | gateway CPU s / peak RSS MB | erp-connector CPU s / peak RSS MB | PostgreSQL backends CPU s | CPU ms per 1000 offers (gateway / connector / PostgreSQL) | progress answers | load average |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${e.offersPerSecond} | ${e.seconds} | ${e.timeline.uploadSeconds} | ${e.timeline.importXmlSuccessSeconds} | ${e.timeline.offersXmlSuccessSeconds} | ${e.cpuSeconds.gateway} / ${e.peakRssMB.gateway} | ${e.cpuSeconds['erp-connector']} / ${e.peakRssMB['erp-connector']} | ${e.cpuSeconds.postgres} | ${e.cpuMsPer1000Offers.gateway} / ${e.cpuMsPer1000Offers['erp-connector']} / ${e.cpuMsPer1000Offers.postgres} | ${e.progressAnswers} | ${e.load.join(' ')} |`,
    '',
    ...e.imports.map(
      (i) =>
        `- gateway, ${i.file}: ${i.elements} elements → ${i.events} events; parse ${i.parseSeconds} s, publish ${i.publishSeconds} s`,
    ),
    '',
    `Target ≥ ${e.target} offers/s with each app ≤ ${e.rssLimitMB} MB RSS: ${e.pass ? 'PASS' : 'FAIL'}.`,
  ];
}
