import * as iconv from 'iconv-lite';
import type { SaleOrderRow } from './exchange.store';

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

const el = (name: string, value: string | number | null | undefined) =>
  value === null || value === undefined || value === '' ? '' : `<${name}>${esc(String(value))}</${name}>`;

const requisite = (name: string, value: string) =>
  `<ЗначениеРеквизита><Наименование>${esc(name)}</Наименование><Значение>${esc(value)}</Значение></ЗначениеРеквизита>`;

/** Our deal statuses as 1C's site-order status names. */
const STATUS_NAMES: Record<string, string> = {
  new: '[N] Принят',
  pending: '[N] Принят',
  processing: '[P] В обработке',
  on_hold: '[P] В обработке',
  paid: '[P] Оплачен',
  shipped: '[S] Отгружен',
  delivered: '[F] Доставлен',
  completed: '[F] Выполнен',
  cancelled: '[C] Отменен',
  refunded: '[C] Отменен',
  failed: '[C] Отменен',
};

/**
 * The site's orders as a CommerceML 2 document for `sale&mode=query`: Документ Ид = our deal id (1C returns it
 * in `sale&mode=file`), Номер = the site's order number, the contractor with phone and email, goods with the
 * 1C Ид where the SKU is a known product of this peer. Encoded as the peer expects; characters the encoding
 * lacks become "?" (iconv-lite's replacement), which 1C shows rather than failing the whole document.
 */
export function renderOrders(orders: SaleOrderRow[], encoding: 'windows-1251' | 'utf-8'): Buffer {
  const now = new Date().toISOString().slice(0, 19);
  const docs = orders.map((o) => {
    const created = new Date(o.source_created_at).toISOString();
    const contacts = [
      ...o.phones.map((p) => `<Контакт><Тип>Телефон рабочий</Тип><Значение>${esc(p)}</Значение></Контакт>`),
      ...o.emails.map((e) => `<Контакт><Тип>Почта</Тип><Значение>${esc(e)}</Значение></Контакт>`),
    ].join('');
    const goods = o.items
      .map(
        (i) =>
          `<Товар>${el('Ид', i.product_id ?? i.sku)}${el('Артикул', i.sku)}${el('Наименование', i.name)}` +
          `<БазоваяЕдиница Код="796" НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница>` +
          `${el('ЦенаЗаЕдиницу', Number(i.price))}${el('Количество', i.quantity)}` +
          `${el('Сумма', Number((Number(i.price) * i.quantity).toFixed(4)))}` +
          `<ЗначенияРеквизитов>${requisite('ВидНоменклатуры', 'Товар')}${requisite('ТипНоменклатуры', 'Товар')}</ЗначенияРеквизитов></Товар>`,
      )
      .join('');
    const reqs = [
      requisite('Заказ оплачен', o.paid_at ? 'true' : 'false'),
      requisite('Отменен', o.status === 'cancelled' ? 'true' : 'false'),
      requisite('Статус заказа', STATUS_NAMES[o.status] ?? o.status),
      ...(o.paid_at
        ? [requisite('Дата оплаты', new Date(o.paid_at).toISOString().slice(0, 19).replace('T', ' '))]
        : []),
      ...(o.delivery_address ? [requisite('Адрес доставки', o.delivery_address)] : []),
    ].join('');
    return (
      `<Документ>${el('Ид', o.id)}${el('Номер', o.external_id)}${el('Дата', created.slice(0, 10))}` +
      `${el('Время', created.slice(11, 19))}<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль>` +
      `${el('Валюта', o.currency.trim())}<Курс>1</Курс>${el('Сумма', Number(o.amount))}` +
      `<Контрагенты><Контрагент>${el('Ид', o.contact_id)}${el('Наименование', o.contact_name ?? o.emails[0] ?? o.phones[0] ?? o.contact_id)}` +
      `<Роль>Покупатель</Роль>${el('ПолноеНаименование', o.contact_name)}` +
      (contacts ? `<Контакты>${contacts}</Контакты>` : '') +
      `</Контрагент></Контрагенты>${goods ? `<Товары>${goods}</Товары>` : ''}` +
      `<ЗначенияРеквизитов>${reqs}</ЗначенияРеквизитов></Документ>`
    );
  });
  const xml =
    `<?xml version="1.0" encoding="${encoding}"?>\n` +
    `<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="${now}">${docs.join('')}</КоммерческаяИнформация>`;
  return iconv.encode(xml, encoding);
}
