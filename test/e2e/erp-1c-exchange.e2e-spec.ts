import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as iconv from 'iconv-lite';
import { ZipFile } from 'yazl';
import { eventually, order, ROOT, TestSystem } from './support/system';

const FIX = join(ROOT, 'test/fixtures/erp/1c');

function zip(entries: Record<string, Buffer>): Promise<Buffer> {
  const z = new ZipFile();
  for (const [name, data] of Object.entries(entries)) z.addBuffer(data, name);
  z.end();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    z.outputStream.on('data', (d: Buffer) => parts.push(d));
    z.outputStream.on('end', () => resolve(Buffer.concat(parts)));
    z.outputStream.on('error', reject);
  });
}

const chunks = (b: Buffer, n: number) => {
  const size = Math.ceil(b.length / n);
  return Array.from({ length: n }, (_, i) => b.subarray(i * size, (i + 1) * size)).filter((c) => c.length);
};

/** A generated CommerceML catalog in windows-1251 (no public one is small enough to keep). */
function catalog(products: Array<{ id: string; name: string }>, changesOnly: boolean): Buffer {
  const goods = products
    .map(
      (p) =>
        `<Товар><Ид>${p.id}</Ид><Артикул>А-${p.id.slice(0, 4)}</Артикул><Наименование>${p.name}</Наименование>` +
        `<БазоваяЕдиница Код="796" НаименованиеПолное="Штука">шт</БазоваяЕдиница><Группы><Ид>g-2</Ид></Группы></Товар>`,
    )
    .join('\n');
  return iconv.encode(
    `<?xml version="1.0" encoding="windows-1251"?>\n<КоммерческаяИнформация ВерсияСхемы="2.07">` +
      `<Классификатор><Ид>c</Ид><Группы><Группа><Ид>g-1</Ид><Наименование>Обувь</Наименование><Группы>` +
      `<Группа><Ид>g-2</Ид><Наименование>Сапоги</Наименование></Группа></Группы></Группа></Группы></Классификатор>` +
      `<Каталог СодержитТолькоИзменения="${changesOnly}"><Ид>c</Ид><Товары>\n${goods}\n</Товары></Каталог></КоммерческаяИнформация>`,
    'win1251',
  );
}

function offers(items: Array<{ id: string; price: number; qty: number }>): Buffer {
  const list = items
    .map(
      (o) =>
        `<Предложение><Ид>${o.id}</Ид><Цены><Цена><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>${o.price}</ЦенаЗаЕдиницу>` +
        `<Валюта>руб</Валюта></Цена></Цены><Количество>${o.qty}</Количество>` +
        `<Склад ИдСклада="w1" КоличествоНаСкладе="${o.qty}"/></Предложение>`,
    )
    .join('');
  return iconv.encode(
    `<?xml version="1.0" encoding="windows-1251"?><КоммерческаяИнформация ВерсияСхемы="2.07"><ПакетПредложений СодержитТолькоИзменения="true">` +
      `<ТипыЦен><ТипЦены><Ид>retail</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен>` +
      `<Склады><Склад><Ид>w1</Ид><Наименование>Склад №1</Наименование></Склад></Склады>` +
      `<Предложения>${list}</Предложения></ПакетПредложений></КоммерческаяИнформация>`,
    'win1251',
  );
}

/**
 * The 1C exchange exactly as 1C drives it: checkauth -> init -> file (chunks, plain and zip) -> import (progress
 * ... success); orders out with sale&mode=query/success and their 1C state back with sale&mode=file.
 */
describe('erp: 1C CommerceML exchange', () => {
  const sys = new TestSystem('erp-1c', {
    ERP_IMPORT_STEP_SECONDS: '0.1',
    ERP_MAX_UPLOAD_BYTES: '300000',
    ERP_ORDER_ENCODINGS: '{"onec-utf8":"utf-8"}',
  });
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    await sys.start(['gateway', 'website-connector', 'erp-connector', 'console']);
    for (const id of ['onec', 'onec-utf8', 'onec-gen']) {
      const res = await sys.consoleCall('POST', '/v1/admin/peers', {
        id,
        name: `1C ${id}`,
        kind: 'erp',
        provider: '1c',
        scopes: ['erp.*'],
      });
      expect(res.status).toBe(201);
      tokens[id] = res.body.credential.token;
    }
    // The gateway learns of new credentials by LISTEN/NOTIFY: wait (few tries, far apart: failures count
    // towards lockout) until it knows the last one.
    const known = await eventually(
      async () => (await call('onec-gen', 'type=catalog&mode=checkauth', { basic: true })).status !== 401,
      5_000,
      600,
    );
    expect(known).toBe(true);
  });
  afterAll(() => sys.destroy());

  async function call(
    peer: string,
    query: string,
    opts: { cookie?: string; body?: Buffer; basic?: boolean } = {},
  ): Promise<{ status: number; lines: string[]; raw: Buffer; type: string }> {
    const headers: Record<string, string> = {};
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.basic)
      headers.authorization = `Basic ${Buffer.from(`${peer}:${tokens[peer]}`).toString('base64')}`;
    if (opts.body) headers['content-type'] = 'application/octet-stream';
    const res = await fetch(`${sys.app('gateway').url}/v1/providers/1c/${peer}/exchange?${query}`, {
      method: opts.body ? 'POST' : 'GET',
      headers,
      body: opts.body,
    });
    const raw = Buffer.from(await res.arrayBuffer());
    return {
      status: res.status,
      lines: raw.toString('utf8').split('\n'),
      raw,
      type: res.headers.get('content-type') ?? '',
    };
  }

  async function session(peer: string, type = 'catalog'): Promise<string> {
    const auth = await call(peer, `type=${type}&mode=checkauth`, { basic: true });
    expect(auth.lines[0]).toBe('success');
    const cookie = `${auth.lines[1]}=${auth.lines[2]}`;
    const init = await call(peer, `type=${type}&mode=init`, { cookie });
    expect(init.lines[0]).toBe('zip=yes');
    expect(init.lines[1]).toMatch(/^file_limit=\d+$/);
    return cookie;
  }

  async function upload(peer: string, cookie: string, filename: string, data: Buffer, parts: number) {
    for (const c of chunks(data, parts)) {
      const r = await call(peer, `type=catalog&mode=file&filename=${encodeURIComponent(filename)}`, {
        cookie,
        body: c,
      });
      expect(r.lines[0]).toBe('success');
    }
  }

  /** Repeats import while the answer is progress, as 1C does; returns the final answer. */
  async function runImport(peer: string, cookie: string, filename: string): Promise<string[]> {
    for (let i = 0; i < 300; i++) {
      const r = await call(peer, `type=catalog&mode=import&filename=${filename}`, { cookie });
      if (r.lines[0] !== 'progress') return r.lines;
    }
    throw new Error('import never finished');
  }

  const snapshot = (peer: string) =>
    sys.sql(
      `SELECT p.external_id, p.sku, p.name, p.group_path, p.unit, p.properties, p.active, p.updated_at,
              (SELECT json_agg(json_build_object('type', price_type, 'value', value, 'currency', currency)
                        ORDER BY price_type) FROM product_prices x
                WHERE x.peer_id = p.peer_id AND x.product_external_id = p.external_id) AS prices,
              (SELECT total FROM product_stock s WHERE s.peer_id = p.peer_id AND s.product_external_id = p.external_id) AS stock
         FROM products p WHERE p.peer_id = $1 ORDER BY p.external_id`,
      [peer],
    );

  const drained = (peer: string, n: number) =>
    eventually(async () => {
      const [r] = await sys.sql<{ n: string }>(
        `SELECT count(*) AS n FROM processed_events WHERE peer_id = $1`,
        [peer],
      );
      return Number(r.n) >= n;
    }, 30_000);

  it('imports the 1C demo catalog (plain chunks) and offers (zip chunks); the same exchange again changes nothing', async () => {
    const runExchange = async () => {
      const cookie = await session('onec');
      await upload('onec', cookie, 'import.xml', readFileSync(join(FIX, 'import.carono.xml')), 3);
      await upload(
        'onec',
        cookie,
        'pack.zip',
        await zip({ 'offers.xml': readFileSync(join(FIX, 'offers.carono.xml')) }),
        2,
      );
      expect((await runImport('onec', cookie, 'import.xml'))[0]).toBe('success');
      expect((await runImport('onec', cookie, 'offers.xml'))[0]).toBe('success');
    };
    await runExchange();
    // erp.catalog.batch of import.xml (2 products), erp.catalog.completed, a batch of offers.xml (5 prices, 5 stock)
    expect(await drained('onec', 3)).toBe(true);
    const first = await snapshot('onec');
    const boots = first.find((p) => p.external_id === 'bd72d910-55bc-11d9-848a-00112f43529a');
    expect(boots).toMatchObject({ sku: 'Б-130001', name: 'Женские ботфорты коричневые', active: true });
    expect(boots!.properties as Array<{ name: string; value: string }>).toEqual(
      expect.arrayContaining([{ name: 'Производитель', value: 'Обувной комбинат' }]),
    );
    const [variant] = await sys.sql(
      `SELECT value, currency FROM product_prices WHERE peer_id = 'onec' AND product_external_id = $1`,
      ['bd72d910-55bc-11d9-848a-00112f43529a#90c55447-d3a8-11e4-9423-e0cb4ed5eed4'],
    );
    expect(variant).toEqual({ value: '1719.0000', currency: 'RUB' });
    const levels = await sys.sql(
      `SELECT warehouse_name, quantity FROM stock_levels WHERE peer_id = 'onec' AND product_external_id = $1`,
      ['bd72d910-55bc-11d9-848a-00112f43529a#90c55447-d3a8-11e4-9423-e0cb4ed5eed4'],
    );
    expect(levels).toEqual([{ warehouse_name: 'Магазин "Обувь"', quantity: '20.000' }]);

    const listed = await sys.consoleGet(
      `/v1/crm/products?externalId=${encodeURIComponent('bd72d910-55bc-11d9-848a-00112f43529a')}`,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(1);
    const card = await sys.consoleGet(`/v1/crm/products/${listed.body.items[0].id}`);
    expect(card.body).toMatchObject({ sku: 'Б-130001', externalId: 'bd72d910-55bc-11d9-848a-00112f43529a' });
    const bySku = await sys.consoleGet(`/v1/crm/products?q=${encodeURIComponent('ботфорты')}`);
    expect(bySku.body.items.map((p: { sku: string }) => p.sku)).toEqual(['Б-130001']);

    await runExchange();
    expect(await drained('onec', 6)).toBe(true);
    expect(await snapshot('onec')).toEqual(first);

    const logged = await eventually(async () => {
      const r = await sys.sql<{ n: string }>(
        `SELECT count(*) AS n FROM access_log WHERE peer_id = 'onec' AND service LIKE '/v1/providers/1c/%'`,
      );
      return Number(r[0].n) >= 2 * (2 + 5 + 2) ? r : null;
    });
    expect(logged).not.toBeNull();
  });

  it('windows-1251 catalog: changes-only touches only its products; a full upload deactivates the absent ones', async () => {
    const names = ['Сапоги зимние', 'Ботинки', 'Туфли', 'Кеды', 'Сандалии'];
    const all = names.map((name, i) => ({ id: `00000000-0000-0000-0000-00000000000${i + 1}`, name }));
    let cookie = await session('onec-gen');
    await upload('onec-gen', cookie, 'import.xml', catalog(all, false), 2);
    await upload(
      'onec-gen',
      cookie,
      'offers.xml',
      offers(all.map((p, i) => ({ id: p.id, price: 100 + i, qty: i }))),
      1,
    );
    expect((await runImport('onec-gen', cookie, 'import.xml'))[0]).toBe('success');
    expect((await runImport('onec-gen', cookie, 'offers.xml'))[0]).toBe('success');
    expect(await drained('onec-gen', 3)).toBe(true);
    const before = await snapshot('onec-gen');
    expect(before.map((p) => [p.name, p.group_path, p.unit, p.stock])).toEqual(
      names.map((n, i) => [n, ['Обувь', 'Сапоги'], 'шт', `${i}.000`]),
    );

    cookie = await session('onec-gen');
    await upload(
      'onec-gen',
      cookie,
      'import.xml',
      catalog([{ id: all[1].id, name: 'Ботинки осенние' }], true),
      1,
    );
    expect((await runImport('onec-gen', cookie, 'import.xml'))[0]).toBe('success');
    expect(await drained('onec-gen', 4)).toBe(true);
    const changed = await snapshot('onec-gen');
    expect(changed[1].name).toBe('Ботинки осенние');
    expect(changed.filter((_, i) => i !== 1)).toEqual(before.filter((_, i) => i !== 1));

    cookie = await session('onec-gen');
    await upload('onec-gen', cookie, 'import.xml', catalog(all.slice(0, 3), false), 1);
    expect((await runImport('onec-gen', cookie, 'import.xml'))[0]).toBe('success');
    const after = await eventually(async () => {
      const s = await snapshot('onec-gen');
      return s.filter((p) => !p.active).length === 2 ? s : null;
    });
    const products = await sys.consoleGet(`/v1/crm/products?externalId=${all[0].id}`);
    expect(products.body.items[0]).toMatchObject({
      name: 'Сапоги зимние',
      prices: [{ priceType: 'retail', priceTypeName: 'Розничная', currency: 'RUB', value: 100 }],
      stock: { total: 0, warehouses: [{ warehouseId: 'w1', warehouseName: 'Склад №1', quantity: 0 }] },
    });
    expect(after!.map((p) => [p.active, p.stock])).toEqual([
      [true, '0.000'],
      [true, '1.000'],
      [true, '2.000'],
      [false, '0.000'],
      [false, '0.000'],
    ]);
  });

  it('keeps an upload across a gateway restart (chunks and session live in PostgreSQL)', async () => {
    const cookie = await session('onec-gen');
    const file = catalog([{ id: 'restart-1', name: 'После перезапуска' }], true);
    const [first, second] = chunks(file, 2);
    expect(
      (await call('onec-gen', 'type=catalog&mode=file&filename=import.xml', { cookie, body: first }))
        .lines[0],
    ).toBe('success');
    await sys.app('gateway').kill('SIGTERM');
    await sys.startApp('gateway');
    expect(
      (await call('onec-gen', 'type=catalog&mode=file&filename=import.xml', { cookie, body: second }))
        .lines[0],
    ).toBe('success');
    expect((await runImport('onec-gen', cookie, 'import.xml'))[0]).toBe('success');
    const row = await eventually(
      async () => (await sys.sql(`SELECT name FROM products WHERE external_id = 'restart-1'`))[0],
    );
    expect(row).toEqual({ name: 'После перезапуска' });
  });

  it('an import whose gateway process dies mid-parse is taken over by another process once its lease lapses', async () => {
    // A catalog big enough that parsing outlasts the first import step (0.1 s), zipped as 1C sends it.
    const big = Array.from({ length: 20_000 }, (_, i) => ({
      id: `lease-${String(i).padStart(5, '0')}`,
      name: `Товар аренды ${i}`,
    }));
    const file = await zip({ 'import.xml': catalog(big, true) });
    const roomy = { ERP_MAX_UPLOAD_BYTES: '100000000', ERP_IMPORT_LEASE_SECONDS: '2' };
    await sys.app('gateway').kill('SIGTERM');
    await sys.startApp('gateway', roomy);
    try {
      const cookie = await session('onec-gen');
      await upload('onec-gen', cookie, 'lease.zip', file, 3);
      const first = await call('onec-gen', 'type=catalog&mode=import&filename=import.xml', { cookie });
      expect(first.lines[0]).toBe('progress');
      const [running] = await sys.sql<{ state: string }>(
        `SELECT state FROM erp_imports WHERE filename = 'import.xml' AND peer_id = 'onec-gen' ORDER BY id DESC LIMIT 1`,
      );
      expect(running.state).toBe('running');
      // The replica holding the lease dies (no shutdown hook runs); another one answers 1C's next calls.
      await sys.app('gateway').kill('SIGKILL');
      await sys.startApp('gateway', roomy);
      expect((await runImport('onec-gen', cookie, 'import.xml'))[0]).toBe('success');
      const counted = await eventually(async () => {
        const [r] = await sys.sql<{ n: string }>(
          `SELECT count(*) AS n FROM products WHERE peer_id = 'onec-gen' AND external_id LIKE 'lease-%'`,
        );
        return Number(r.n) === big.length;
      }, 60_000);
      expect(counted).toBe(true);
      // Effectively once: each of the file's 20 batches (1,000 facts each) applied exactly once, whichever process
      // published it and however often.
      const [imp] = await sys.sql<{ id: string; state: string; events: number }>(
        `SELECT i.id::text, i.state, i.events FROM erp_imports i WHERE i.filename = 'import.xml' AND i.peer_id = 'onec-gen'
          ORDER BY i.id DESC LIMIT 1`,
      );
      expect(imp).toMatchObject({ state: 'done', events: 20 });
      const applied = await eventually(async () => {
        const [r] = await sys.sql<{ n: string }>(
          `SELECT count(*) AS n FROM processed_events WHERE peer_id = 'onec-gen' AND idempotency_key LIKE $1`,
          [`catalog-batch:1c-${imp.id}:%`],
        );
        return Number(r.n) === 20;
      });
      expect(applied).toBe(true);
    } finally {
      // The suite's own limits again for the tests after this one.
      await sys.app('gateway').kill('SIGTERM');
      await sys.startApp('gateway');
    }
  });

  it('uploads a file once with the operator CLI (erp import FILE --peer ID)', async () => {
    const dir = join(ROOT, '.data', 'test-logs');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'erp-cli-import.xml');
    writeFileSync(file, catalog([{ id: 'cli-1', name: 'Из консоли' }], true));
    const out = await sys.cli(
      'erp',
      'import',
      file,
      '--peer',
      'onec-gen',
      '--token',
      tokens['onec-gen'],
      '--gateway',
      sys.app('gateway').url,
    );
    expect(out.imported).toEqual({ 'erp-cli-import.xml': expect.stringMatching(/events accepted/) });
    const row = await eventually(
      async () => (await sys.sql(`SELECT name FROM products WHERE external_id = 'cli-1'`))[0],
    );
    expect(row).toEqual({ name: 'Из консоли' });
  });

  it("parses an upload's other files ahead: offers.xml is read while import.xml is imported and published after it, never after a failed import.xml", async () => {
    const importState = (filename: string) =>
      sys.sql<{ state: string; events: number }>(
        `SELECT i.state, i.events FROM erp_imports i JOIN erp_exchange_sessions s ON s.id_hash = i.session_hash
          WHERE s.peer_id = 'onec-gen' AND i.filename = $1 ORDER BY i.id DESC LIMIT 1`,
        [filename],
      );
    const price = async (id: string) =>
      (
        await sys.sql<{ value: string }>(
          `SELECT value FROM product_prices WHERE peer_id = 'onec-gen' AND product_external_id = $1`,
          [id],
        )
      )[0]?.value ?? null;

    let cookie = await session('onec-gen');
    await upload(
      'onec-gen',
      cookie,
      'import_files.zip',
      await zip({
        'import.xml': catalog([{ id: 'ahead-1', name: 'Сапоги' }], true),
        'offers.xml': offers([{ id: 'ahead-1', price: 990, qty: 4 }]),
      }),
      1,
    );
    expect((await runImport('onec-gen', cookie, 'import.xml'))[0]).toBe('success');
    // 1C has not asked for offers.xml yet: it was parsed ahead, and published once import.xml was.
    expect(await eventually(async () => (await importState('offers.xml'))[0]?.state === 'done', 10_000)).toBe(
      true,
    );
    expect(await eventually(async () => (await price('ahead-1')) === '990.0000', 10_000)).toBe(true);
    const asked = await call('onec-gen', 'type=catalog&mode=import&filename=offers.xml', { cookie });
    expect(asked.lines).toEqual(['success', '1 events accepted']);

    // import.xml fails: offers.xml, parsed ahead, is not published, and its import is given back (pending).
    cookie = await session('onec-gen');
    await upload(
      'onec-gen',
      cookie,
      'import_files.zip',
      await zip({
        'import.xml': catalog([{ id: 'ahead-2', name: '' }], true),
        'offers.xml': offers([{ id: 'ahead-1', price: 1290, qty: 1 }]),
      }),
      1,
    );
    const failed = await runImport('onec-gen', cookie, 'import.xml');
    expect(failed).toEqual(['failure', expect.stringMatching(/Товар ahead-2: name/)]);
    expect(
      await eventually(async () => (await importState('offers.xml'))[0]?.state === 'pending', 10_000),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(await price('ahead-1')).toBe('990.0000');
  });

  it('refuses bad files with failure and a reason, publishing nothing', async () => {
    const cookie = await session('onec-gen');
    const [{ n: before }] = await sys.sql<{ n: string }>(`SELECT count(*) AS n FROM processed_events`);
    const bad = iconv.encode(
      iconv
        .decode(catalog([{ id: 'x1', name: 'ok' }], true), 'win1251')
        .replace('</Товары>', '<Товар><Ид>x2</Ид></Товары>'),
      'win1251',
    );
    await upload('onec-gen', cookie, 'bad.xml', bad, 1);
    const broken = await runImport('onec-gen', cookie, 'bad.xml');
    expect(broken[0]).toBe('failure');
    expect(broken[1]).toMatch(/bad\.xml: line \d+, column \d+: /);

    const invalid = catalog([{ id: 'x3', name: '' }], true);
    await upload('onec-gen', cookie, 'invalid.xml', invalid, 1);
    const refused = await runImport('onec-gen', cookie, 'invalid.xml');
    expect(refused).toEqual(['failure', expect.stringMatching(/line \d+, column \d+: Товар x3: name/)]);

    await upload(
      'onec-gen',
      cookie,
      'dtd.xml',
      Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'),
      1,
    );
    expect((await runImport('onec-gen', cookie, 'dtd.xml'))[1]).toMatch(/DOCTYPE/);

    await upload('onec-gen', cookie, 'bomb.zip', await zip({ 'bomb.xml': Buffer.alloc(250_000, 0x20) }), 1);
    expect((await runImport('onec-gen', cookie, 'bomb.xml'))[1]).toMatch(/zip bomb/);

    const big = Buffer.alloc(200_000, 0x20);
    expect(
      (await call('onec-gen', 'type=catalog&mode=file&filename=big.xml', { cookie, body: big })).lines[0],
    ).toBe('success');
    const over = await call('onec-gen', 'type=catalog&mode=file&filename=big.xml', { cookie, body: big });
    expect(over.lines).toEqual(['failure', expect.stringMatching(/over 300000 bytes/)]);

    const stale = await call('onec-gen', 'type=catalog&mode=init', { cookie: 'sb1c_session=forged' });
    expect(stale.status).toBe(401);
    expect(stale.lines[0]).toBe('failure');
    const wrong = await fetch(
      `${sys.app('gateway').url}/v1/providers/1c/onec-gen/exchange?type=catalog&mode=checkauth`,
      {
        headers: { authorization: `Basic ${Buffer.from('onec-gen:nope').toString('base64')}` },
      },
    );
    expect(wrong.status).toBe(401);

    const [{ n: afterCount }] = await sys.sql<{ n: string }>(`SELECT count(*) AS n FROM processed_events`);
    expect(afterCount).toBe(before);
  });

  it('sends site orders in the peer encoding (config or peer setting) until success, and takes 1C order states back', async () => {
    const o = order();
    const deal = await sys.placeOrder(o);
    // The encoding as a peer setting (over the configured default, windows-1251); an unknown one is refused.
    const refused = await sys.consoleCall('PATCH', '/v1/admin/peers/onec-gen', { orderEncoding: 'koi8-r' });
    expect(refused.status).toBe(400);
    const patched = await sys.consoleCall('PATCH', '/v1/admin/peers/onec-gen', { orderEncoding: 'utf-8' });
    expect(patched.status).toBe(200);
    expect(patched.body.orderEncoding).toBe('utf-8');
    // The gateway hears of the change by LISTEN/NOTIFY.
    const genCookie = await session('onec-gen', 'sale');
    const heard = await eventually(
      async () =>
        (await call('onec-gen', 'type=sale&mode=query', { cookie: genCookie })).type.includes('utf-8'),
      10_000,
    );
    expect(heard).toBe(true);
    for (const [peer, encoding] of [
      ['onec', 'windows-1251'],
      ['onec-utf8', 'utf-8'],
      ['onec-gen', 'utf-8'],
    ] as const) {
      const cookie = await session(peer, 'sale');
      const q1 = await call(peer, 'type=sale&mode=query', { cookie });
      expect(q1.type).toContain(encoding);
      const doc = iconv.decode(q1.raw, encoding);
      expect(doc).toContain(`encoding="${encoding}"`);
      expect(doc).toContain(`<Номер>${String(o.externalId)}</Номер>`);
      expect(doc).toContain(`<Ид>${deal.id}</Ид>`);
      expect(doc).toContain('Покупатель');
      const q2 = iconv.decode((await call(peer, 'type=sale&mode=query', { cookie })).raw, encoding);
      expect(q2).toContain(deal.id);
      expect((await call(peer, 'type=sale&mode=success', { cookie })).lines[0]).toBe('success');
      const q3 = iconv.decode((await call(peer, 'type=sale&mode=query', { cookie })).raw, encoding);
      expect(q3).not.toContain(deal.id);
    }

    const cookie = await session('onec', 'sale');
    const back = iconv.encode(
      `<?xml version="1.0" encoding="windows-1251"?><КоммерческаяИнформация ВерсияСхемы="2.09"><Документ>` +
        `<Ид>${deal.id}</Ид><Номер>${String(o.externalId)}</Номер><Номер1С>ТДЦУ-000077</Номер1С><ПометкаУдаления>false</ПометкаУдаления>` +
        `<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>Номер оплаты по 1С</Наименование><Значение>77</Значение></ЗначениеРеквизита>` +
        `<ЗначениеРеквизита><Наименование>Дата оплаты по 1С</Наименование><Значение>2026-11-30 12:00:00</Значение></ЗначениеРеквизита>` +
        `</ЗначенияРеквизитов></Документ></КоммерческаяИнформация>`,
      'win1251',
    );
    const r = await call('onec', 'type=sale&mode=file&filename=orders.xml', { cookie, body: back });
    expect(r.lines[0]).toBe('success');
    const updated = await eventually(async () => {
      const [d] = await sys.sql<{ status: string; erp_number: string | null; paid_at: Date | null }>(
        `SELECT status, erp_number, paid_at FROM deals WHERE id = $1`,
        [deal.id],
      );
      return d.erp_number ? d : null;
    });
    expect(updated).toMatchObject({ status: 'paid', erp_number: 'ТДЦУ-000077' });
    expect(updated!.paid_at!.toISOString()).toBe('2026-11-30T12:00:00.000Z');
  });
});
