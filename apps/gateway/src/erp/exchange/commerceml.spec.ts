import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as iconv from 'iconv-lite';
import { XmlStream, type XmlNode } from '../xml';
import {
  CatalogMapper,
  captureOrderDocuments,
  cmlDate,
  cmlDecimal,
  cmlNumber,
  currencyCode,
  orderStatusEvent,
  type CmlEvent,
} from './commerceml';

const FIX = join(__dirname, '../../../../../test/fixtures/erp/1c');

function read(
  file: string | Buffer,
  capture: (p: readonly string[]) => boolean,
  onNode: (n: XmlNode) => void,
  mapper?: CatalogMapper,
  prune = true,
) {
  const s = new XmlStream(capture, onNode, mapper ? (n, a) => mapper.onOpen(n, a) : undefined);
  if (mapper && prune) s.prune = (p) => CatalogMapper.prune(p);
  const bytes = typeof file === 'string' ? readFileSync(join(FIX, file)) : file;
  for (let i = 0; i < bytes.length; i += 4096) s.write(bytes.subarray(i, i + 4096));
  s.end();
}

/** A catalog shaped like the bench's (test/bench/erp-catalog.mjs): what 1C's УТ 11 writes, in windows-1251. */
function generated(count: number): { importXml: Buffer; offersXml: Buffer } {
  const head = '<?xml version="1.0" encoding="windows-1251"?>\n<КоммерческаяИнформация ВерсияСхемы="2.05">';
  const products: string[] = [];
  const offers: string[] = [];
  for (let n = 0; n < count; n++) {
    products.push(
      `<Товар><Ид>i${n}</Ид><Артикул>А-${n}</Артикул><Наименование>Сапоги, модель ${n}</Наименование>` +
        `<БазоваяЕдиница Код="796" НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница>` +
        `<Группы><Ид>g${n % 3}</Ид></Группы><Описание>Кожа, размер ${36 + (n % 6)}</Описание>` +
        `<ЗначенияСвойств><ЗначенияСвойства><Ид>p0</Ид><Значение>v${n % 2}</Значение></ЗначенияСвойства></ЗначенияСвойств>` +
        `<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка></СтавкаНалога></СтавкиНалогов>` +
        `<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>` +
        (n % 5 === 0 ? '<ПометкаУдаления>true</ПометкаУдаления>' : '') +
        `</Товар>\n`,
    );
    offers.push(
      `<Предложение><Ид>i${n}</Ид><Артикул>А-${n}</Артикул><Наименование>Сапоги, модель ${n}</Наименование>` +
        `<БазоваяЕдиница Код="796">шт</БазоваяЕдиница><Цены>` +
        [0, 1]
          .map(
            (t) =>
              `<Цена><Представление>${n + t}.50 руб. за шт</Представление><ИдТипаЦены>t${t}</ИдТипаЦены>` +
              `<ЦенаЗаЕдиницу>${n * 13 + t}.${n % 100}</ЦенаЗаЕдиницу><Валюта>руб</Валюта><Единица>шт</Единица><Коэффициент>1</Коэффициент></Цена>`,
          )
          .join('') +
        `</Цены><Количество>${n % 7}</Количество><Склад ИдСклада="w0" КоличествоНаСкладе="${n % 4}"/>` +
        `<Склад ИдСклада="w1" КоличествоНаСкладе="${(n % 7) - (n % 4)}"/></Предложение>\n`,
    );
  }
  return {
    importXml: iconv.encode(
      `${head}<Классификатор><Группы><Группа><Ид>g0</Ид><Наименование>Обувь</Наименование><Группы>` +
        `<Группа><Ид>g1</Ид><Наименование>Сапоги</Наименование></Группа></Группы></Группа></Группы>` +
        `<Свойства><Свойство><Ид>p0</Ид><Наименование>Цвет</Наименование><ВариантыЗначений>` +
        `<Справочник><ИдЗначения>v0</ИдЗначения><Значение>Чёрный</Значение></Справочник></ВариантыЗначений></Свойство></Свойства>` +
        `</Классификатор><Каталог СодержитТолькоИзменения="false"><Товары>${products.join('')}</Товары></Каталог></КоммерческаяИнформация>`,
      'win1251',
    ),
    offersXml: iconv.encode(
      `${head}<ПакетПредложений><ТипыЦен><ТипЦены><Ид>t0</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен>` +
        `<Склады><Склад><Ид>w0</Ид><Наименование>Основной</Наименование></Склад></Склады>` +
        `<Предложения>${offers.join('')}</Предложения></ПакетПредложений></КоммерческаяИнформация>`,
      'win1251',
    ),
  };
}

/** The events of a catalog file, with the tree pruned as the exchange does or whole. */
function catalogEvents(file: string | Buffer, prune: boolean): CmlEvent[] {
  const m = new CatalogMapper(3);
  const events: CmlEvent[] = [];
  read(file, CatalogMapper.capture, (n) => events.push(...m.onNode(n)), m, prune);
  return events;
}

describe('CommerceML mapping', () => {
  it('reads the demo catalog (UTF-8 with BOM): group path, dictionary property values, unit, full upload', () => {
    const m = new CatalogMapper(7);
    const events: CmlEvent[] = [];
    read('import.carono.xml', CatalogMapper.capture, (n) => events.push(...m.onNode(n)), m);
    expect(events).toHaveLength(2);
    expect(events[0].payload).toMatchObject({
      externalId: 'bd72d910-55bc-11d9-848a-00112f43529a',
      sku: 'Б-130001',
      barcode: '2000018987155',
      active: true,
      version: 7,
    });
    expect((events[0].payload.groupPath as string[]).length).toBeGreaterThan(0);
    expect(events[0].payload.properties).toEqual(
      expect.arrayContaining([{ name: 'Производитель', value: 'Обувной комбинат' }]),
    );
    expect(events[1].payload.sku).toBe('Б- 130005');
    expect(m.hasCatalog && m.changesOnly !== true).toBe(true);
  });

  it('reads offers: prices with price type names, stock per warehouse with names', () => {
    const m = new CatalogMapper(1);
    const events: CmlEvent[] = [];
    read('offers.carono.xml', CatalogMapper.capture, (n) => events.push(...m.onNode(n)), m);
    expect(m.changesOnly).toBe(false);
    const price = events.find((e) => e.type === 'erp.price.updated')!;
    expect(price.payload).toEqual({
      productExternalId: 'bd72d910-55bc-11d9-848a-00112f43529a#90c55447-d3a8-11e4-9423-e0cb4ed5eed4',
      prices: [
        {
          priceType: 'bb14a3a4-6b17-11e0-9819-e0cb4ed5eed4',
          priceTypeName: 'Розничная',
          currency: 'RUB',
          value: 1719,
        },
      ],
      version: 1,
    });
    const stock = events.find((e) => e.type === 'erp.stock.updated')!;
    expect(stock.payload).toMatchObject({
      total: 20,
      warehouses: [{ quantity: 20, warehouseName: 'Магазин "Обувь"' }],
    });
  });

  it("maps 1C's order documents (windows-1251 and UT 11) to order states", () => {
    const docs: CmlEvent[] = [];
    read('orders.to-site.cp1251.xml', captureOrderDocuments, (n) => docs.push(orderStatusEvent(n, 5)));
    expect(docs[0].payload).toMatchObject({
      status: 'delivered',
      paidAt: '2007-10-16T15:44:47Z',
      version: 5,
    });
    const ut: CmlEvent[] = [];
    read('orders.from-1c.ut11.xml', captureOrderDocuments, (n) => ut.push(orderStatusEvent(n, 5)));
    expect(ut[0].payload).toMatchObject({ orderId: '142', erpNumber: 'ТДЦУ-000001' });
  });

  it('maps the same events from a pruned tree as from the whole one (fixtures and a generated catalog)', () => {
    const { importXml, offersXml } = generated(50);
    const files = [
      'import.carono.xml',
      'offers.carono.xml',
      importXml,
      offersXml,
      // Every shape offer() reads: per-warehouse stock (attributes and CommerceML 3's Остатки), a total only.
      Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация><ПакетПредложений><Предложения>' +
          '<Предложение><Ид>a</Ид><Описание>x</Описание><Остатки><Остаток><Склад><Ид>w</Ид><Количество>2.5</Количество></Склад></Остаток></Остатки></Предложение>' +
          '<Предложение><Ид>b</Ид><Остатки><Остаток><Количество>7</Количество></Остаток></Остатки><Цены><Цена><ИдТипаЦены>t</ИдТипаЦены><ЦенаЗаЕдиницу>1 719,50</ЦенаЗаЕдиницу><Коэффициент>1</Коэффициент></Цена></Цены></Предложение>' +
          '</Предложения></ПакетПредложений></КоммерческаяИнформация>',
      ),
    ];
    for (const file of files) {
      const whole = catalogEvents(file, false);
      expect(whole.length).toBeGreaterThan(0);
      expect(catalogEvents(file, true)).toEqual(whole);
    }
  });

  it('rounds 1C decimals as before, plain ones without toFixed', () => {
    const samples = [
      '0',
      '7',
      '1.5',
      '231.7400',
      '0.1',
      '0.3',
      '1.005',
      '2.675',
      '1234567.8901',
      '99999999999.9999',
    ];
    for (let i = 0; i < 2000; i++) samples.push(((i * 7919) % 100_000) / 10 ** (i % 6) + '');
    samples.push('-1.25', '1 719,5', '1,25', '12.34567', 'abc', '', '1e3', '00012.50');
    for (const s of samples) {
      for (const places of [3, 4] as const) {
        const n = cmlNumber(s);
        const before = Number.isNaN(n) ? n : Number(n.toFixed(places));
        expect([s, places, cmlDecimal(s, places)]).toEqual([s, places, before]);
      }
    }
  });

  it('normalizes 1C values', () => {
    expect(currencyCode('руб')).toBe('RUB');
    expect(currencyCode('USD')).toBe('USD');
    expect(cmlNumber('1 719,50')).toBe(1719.5);
    expect(cmlNumber('231.7400')).toBe(231.74);
    expect(cmlNumber('abc')).toBeNaN();
    expect(cmlDate('16.10.2007 15:44:47')).toBe('2007-10-16T15:44:47Z');
    expect(cmlDate('0001-01-01T00:00:00')).toBeUndefined();
  });
});
