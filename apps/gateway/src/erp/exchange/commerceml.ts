import {
  ERP_EVENT_TYPES,
  type ErpOrderStatus,
  type OrderStatusChangedV1,
  type PriceUpdatedV1,
  type ProductUpsertedV1,
  type StockUpdatedV1,
} from '@switchboard/contracts/erp';
import { child, children, text, type XmlNode } from '../xml';

/** One event a CommerceML element became (validated later against its contract). */
export interface CmlEvent {
  type: string;
  payload: Record<string, unknown>;
  /** What 1C's operator recognises: `Товар 3f2c…`. */
  what: string;
}

const ROOT = 'КоммерческаяИнформация';

/** 1C writes "руб" and the old "RUR"; the rest are ISO codes already. */
export function currencyCode(raw: string | undefined): string {
  const v = (raw ?? '').trim();
  if (/^(руб\.?|rur|rub)$/i.test(v) || v === '643') return 'RUB';
  return v.toUpperCase();
}

/** A 1C number ("231.7400", "1 719,5") as a JS number; NaN when it is none (the contract then says so). */
export function cmlNumber(raw: string | undefined): number {
  if (raw === undefined) return NaN;
  const s = raw.replace(/[\s\u00a0]/g, '').replace(',', '.');
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : NaN;
}

const round = (n: number, places: number) => (Number.isNaN(n) ? n : Number(n.toFixed(places)));

/** Non-negative decimals with at most 3 / 4 places, as 1C writes quantities and prices. */
const PLAIN_DECIMAL: Record<number, RegExp> = { 3: /^\d+(?:\.\d{1,3})?$/, 4: /^\d+(?:\.\d{1,4})?$/ };

/**
 * A 1C number rounded to `places` decimals: round(cmlNumber(raw), places). A plain decimal with no more places
 * is taken as it is: the double nearest to it is what rounding gives (within half a unit of the last place).
 */
export function cmlDecimal(raw: string | undefined, places: 3 | 4): number {
  if (raw !== undefined && PLAIN_DECIMAL[places].test(raw)) return Number(raw);
  return round(cmlNumber(raw), places);
}

/** 1C dates: "2015-06-29", "2007-10-16 15:44:47", "16.10.2007 15:44:47" -> ISO 8601 (or as given). */
export function cmlDate(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const v = raw.trim();
  if (/^0001-01-01/.test(v)) return undefined; // 1C's empty date
  const ru = /^(\d\d)\.(\d\d)\.(\d{4})(?:\s+(\d\d:\d\d:\d\d))?$/.exec(v);
  if (ru) return ru[4] ? `${ru[3]}-${ru[2]}-${ru[1]}T${ru[4]}Z` : `${ru[3]}-${ru[2]}-${ru[1]}`;
  const iso = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)$/.exec(v);
  if (iso) return `${iso[1]}T${iso[2]}Z`;
  return v;
}

/** The requisites (ЗначенияРеквизитов) of an element as name -> value. */
function requisites(node: XmlNode): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of children(child(node, 'ЗначенияРеквизитов'), 'ЗначениеРеквизита')) {
    const name = text(r, 'Наименование');
    if (name) out.set(name, text(r, 'Значение') ?? '');
  }
  return out;
}

const isTrue = (v: string | undefined) => v !== undefined && /^(true|да|1)$/i.test(v.trim());

/**
 * Whether product() and offer() read this child of Товар, Предложение or Цены/Цена (see CatalogMapper.prune).
 * Comparisons, not a Set: the parser's names are fresh strings, and hashing each cost more than this.
 */
function readsChild(parent: string, name: string): boolean {
  switch (parent) {
    case 'Товар':
      return (
        name === 'Ид' ||
        name === 'Артикул' ||
        name === 'Наименование' ||
        name === 'БазоваяЕдиница' ||
        name === 'Группы' ||
        name === 'Штрихкод' ||
        name === 'ЗначенияСвойств' ||
        name === 'ХарактеристикиТовара' ||
        name === 'Статус' ||
        name === 'ПометкаУдаления'
      );
    case 'Предложение':
      return (
        name === 'Ид' || name === 'Цены' || name === 'Склад' || name === 'Остатки' || name === 'Количество'
      );
    case 'Цена':
      return name === 'ИдТипаЦены' || name === 'Валюта' || name === 'ЦенаЗаЕдиницу' || name === 'Единица';
    default:
      return true;
  }
}

interface Group {
  name: string;
  parent: string | null;
}

/**
 * import.xml / offers.xml as events, element by element: the classifier (groups, properties, price types,
 * warehouses) is kept as it passes (small), products and offers become events as they close.
 */
export class CatalogMapper {
  private readonly groups = new Map<string, Group>();
  private readonly properties = new Map<string, { name: string; values: Map<string, string> }>();
  private readonly priceTypes = new Map<string, { name?: string; currency?: string }>();
  private readonly warehouses = new Map<string, string | undefined>();
  /** CommerceML: `СодержитТолькоИзменения` as attribute (2.05+) or element (older); absent = full. */
  changesOnly: boolean | null = null;
  /** Whether the document has a Каталог (products), so a full upload of it deactivates what it omits. */
  hasCatalog = false;
  products = 0;

  constructor(private readonly version: number) {}

  /** Which elements to build as trees (path from the root, local names). */
  static capture(path: readonly string[]): boolean {
    const n = path.length;
    const last = path[n - 1];
    const parent = path[n - 2];
    if (path[0] !== ROOT) return false;
    return (
      (n === 2 && last === 'Классификатор') ||
      (last === 'Товар' && parent === 'Товары' && path[n - 3] === 'Каталог') ||
      (last === 'ТипыЦен' && parent === 'ПакетПредложений') ||
      (last === 'Склады' && parent === 'ПакетПредложений') ||
      (last === 'Предложение' && parent === 'Предложения') ||
      (last === 'СодержитТолькоИзменения' && (parent === 'Каталог' || parent === 'ПакетПредложений')) ||
      (n === 3 && last === 'Группы' && parent === 'Каталог') ||
      (n === 3 && last === 'Свойства' && parent === 'Каталог')
    );
  }

  /**
   * Inside captured elements, what no mapping below reads (XmlStream.prune): not built. The lists are what
   * product() and offer() read; an element added there must be added here.
   */
  static prune(path: readonly string[]): boolean {
    const n = path.length;
    const parent = path[n - 2];
    if (parent === 'Цена' && path[n - 3] !== 'Цены') return false;
    return !readsChild(parent, path[n - 1]);
  }

  onOpen(name: string, attrs: Record<string, string>): void {
    if (name === 'Каталог' || name === 'ПакетПредложений') {
      if (name === 'Каталог') this.hasCatalog = true;
      if (attrs['СодержитТолькоИзменения'] !== undefined) {
        this.changesOnly = isTrue(attrs['СодержитТолькоИзменения']);
      }
    }
  }

  /** The events of one captured element (none for classifier parts). */
  onNode(node: XmlNode): CmlEvent[] {
    switch (node.name) {
      case 'Классификатор':
        this.readGroups(child(node, 'Группы'), null);
        this.readProperties(child(node, 'Свойства'));
        return [];
      case 'Группы':
        this.readGroups(node, null);
        return [];
      case 'Свойства':
        this.readProperties(node);
        return [];
      case 'СодержитТолькоИзменения':
        this.changesOnly = isTrue(node.text);
        return [];
      case 'ТипыЦен':
        for (const t of children(node, 'ТипЦены')) {
          const id = text(t, 'Ид');
          if (id) this.priceTypes.set(id, { name: text(t, 'Наименование'), currency: text(t, 'Валюта') });
        }
        return [];
      case 'Склады':
        for (const w of children(node, 'Склад')) {
          const id = text(w, 'Ид');
          if (id) this.warehouses.set(id, text(w, 'Наименование'));
        }
        return [];
      case 'Товар':
        this.products++;
        return [this.product(node)];
      case 'Предложение':
        return this.offer(node);
      default:
        return [];
    }
  }

  private readGroups(node: XmlNode | undefined, parent: string | null): void {
    for (const g of children(node, 'Группа')) {
      const id = text(g, 'Ид');
      if (!id) continue;
      this.groups.set(id, { name: text(g, 'Наименование') ?? id, parent });
      this.readGroups(child(g, 'Группы'), id);
    }
  }

  private readProperties(node: XmlNode | undefined): void {
    for (const p of [...children(node, 'Свойство'), ...children(node, 'СвойствоНоменклатуры')]) {
      const id = text(p, 'Ид');
      if (!id) continue;
      const values = new Map<string, string>();
      for (const v of children(child(p, 'ВариантыЗначений'), 'Справочник')) {
        const vid = text(v, 'ИдЗначения');
        if (vid) values.set(vid, text(v, 'Значение') ?? '');
      }
      this.properties.set(id, { name: text(p, 'Наименование') ?? id, values });
    }
  }

  private groupPath(id: string | undefined): string[] {
    const path: string[] = [];
    const seen = new Set<string>();
    for (let g = id ? this.groups.get(id) : undefined; g && path.length < 32;) {
      path.unshift(g.name);
      if (!g.parent || seen.has(g.parent)) break;
      seen.add(g.parent);
      g = this.groups.get(g.parent);
    }
    return path;
  }

  private product(node: XmlNode): CmlEvent {
    const id = text(node, 'Ид') ?? '';
    const unit = child(node, 'БазоваяЕдиница');
    const props: Array<{ name: string; value: string }> = [];
    const values = child(node, 'ЗначенияСвойств');
    // 1C writes ЗначенияСвойства (sic) as often as the schema's ЗначениеСвойства.
    for (const v of [...children(values, 'ЗначенияСвойства'), ...children(values, 'ЗначениеСвойства')]) {
      const prop = this.properties.get(text(v, 'Ид') ?? '');
      const raw = text(v, 'Значение');
      if (raw === undefined) continue;
      props.push({ name: prop?.name ?? text(v, 'Ид') ?? '', value: prop?.values.get(raw) ?? raw });
    }
    for (const c of children(child(node, 'ХарактеристикиТовара'), 'ХарактеристикаТовара')) {
      const name = text(c, 'Наименование');
      if (name) props.push({ name, value: text(c, 'Значение') ?? '' });
    }
    const deleted =
      node.attrs['Статус'] === 'Удален' ||
      text(node, 'Статус') === 'Удален' ||
      isTrue(text(node, 'ПометкаУдаления'));
    const payload: ProductUpsertedV1 = {
      externalId: id,
      sku: text(node, 'Артикул'),
      name: text(node, 'Наименование') ?? '',
      groupPath: this.groupPath(text(node, 'Группы', 'Ид')),
      unit:
        unit?.attrs['НаименованиеКраткое'] ??
        (unit?.text || undefined) ??
        unit?.attrs['НаименованиеПолное'] ??
        unit?.attrs['Код'],
      barcode: text(node, 'Штрихкод'),
      properties: props,
      active: !deleted,
      version: this.version,
    };
    return { type: ERP_EVENT_TYPES.productUpserted, payload: strip(payload), what: `Товар ${id}` };
  }

  private offer(node: XmlNode): CmlEvent[] {
    const id = text(node, 'Ид') ?? '';
    const out: CmlEvent[] = [];
    const prices = children(child(node, 'Цены'), 'Цена').map((p) => {
      const type = text(p, 'ИдТипаЦены') ?? '';
      const known = this.priceTypes.get(type);
      return strip({
        priceType: type,
        priceTypeName: known?.name,
        currency: currencyCode(text(p, 'Валюта') ?? known?.currency),
        value: cmlDecimal(text(p, 'ЦенаЗаЕдиницу'), 4),
        unit: text(p, 'Единица'),
      });
    });
    if (prices.length > 0) {
      const payload = { productExternalId: id, prices, version: this.version } as unknown as PriceUpdatedV1;
      out.push({
        type: ERP_EVENT_TYPES.priceUpdated,
        payload: strip(payload),
        what: `Предложение ${id} (Цены)`,
      });
    }
    const warehouses: StockUpdatedV1['warehouses'] = children(node, 'Склад')
      .filter((w) => w.attrs['ИдСклада'])
      .map((w) =>
        strip({
          warehouseId: w.attrs['ИдСклада'],
          warehouseName: this.warehouses.get(w.attrs['ИдСклада']),
          quantity: cmlDecimal(w.attrs['КоличествоНаСкладе'], 3),
        }),
      );
    // CommerceML 3: Остатки/Остаток/Склад/(Ид, Количество), or Остатки/Остаток/Количество for the total.
    let restTotal: number | undefined;
    for (const r of children(child(node, 'Остатки'), 'Остаток')) {
      const w = child(r, 'Склад');
      if (w) {
        const wid = text(w, 'Ид') ?? '';
        warehouses.push(
          strip({
            warehouseId: wid,
            warehouseName: this.warehouses.get(wid),
            quantity: cmlDecimal(text(w, 'Количество'), 3),
          }),
        );
      } else if (text(r, 'Количество') !== undefined) restTotal = cmlDecimal(text(r, 'Количество'), 3);
    }
    const totalText = text(node, 'Количество');
    if (totalText !== undefined || warehouses.length > 0 || restTotal !== undefined) {
      const total =
        totalText !== undefined
          ? cmlDecimal(totalText, 3)
          : (restTotal ??
            round(
              warehouses.reduce((a, w) => a + w.quantity, 0),
              3,
            ));
      out.push({
        type: ERP_EVENT_TYPES.stockUpdated,
        payload: { productExternalId: id, total, warehouses, version: this.version },
        what: `Предложение ${id} (Количество)`,
      });
    }
    return out;
  }
}

/**
 * 1C's order documents (`sale&mode=file`): each Документ becomes the order's ERP state. Cancellation and the
 * final status win over shipment, shipment over payment (1C reports either only when complete).
 */
export function orderStatusEvent(doc: XmlNode, version: number): CmlEvent {
  const req = requisites(doc);
  const id = text(doc, 'Ид') ?? text(doc, 'Номер') ?? '';
  const statusText = req.get('Статус заказа') ?? '';
  const paidAt = cmlDate(req.get('Дата оплаты по 1С') ?? req.get('Дата оплаты'));
  const shippedAt = cmlDate(req.get('Дата отгрузки по 1С') ?? req.get('Дата отгрузки'));
  const paid = Boolean(paidAt) || isTrue(req.get('Заказ оплачен')) || Boolean(req.get('Номер оплаты по 1С'));
  const shipped = Boolean(shippedAt) || Boolean(req.get('Номер отгрузки по 1С'));
  let status: ErpOrderStatus = 'processing';
  if (isTrue(text(doc, 'ПометкаУдаления')) || isTrue(req.get('Отменен'))) status = 'cancelled';
  else if (isTrue(req.get('Финальный статус')) || /^\[F\]/.test(statusText)) status = 'delivered';
  else if (shipped) status = 'shipped';
  else if (paid) status = 'paid';
  const payload: OrderStatusChangedV1 = {
    orderId: id,
    status,
    erpNumber: text(doc, 'Номер1С') ?? req.get('Номер по 1С') ?? undefined,
    paidAt,
    shippedAt,
    paymentNumber: req.get('Номер оплаты по 1С') ?? req.get('Номер платежного документа'),
    shipmentNumber: req.get('Номер отгрузки по 1С'),
    version,
  };
  return { type: ERP_EVENT_TYPES.orderStatusChanged, payload: strip(payload), what: `Документ ${id}` };
}

export const captureOrderDocuments = (path: readonly string[]) =>
  path.length === 2 && path[0] === ROOT && path[1] === 'Документ';

/** Drops undefined and empty members (a plain loop: this runs for every fact of a 100,000-offer file). */
function strip<T extends object>(o: T): T & Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k] as unknown;
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out as T & Record<string, unknown>;
}
