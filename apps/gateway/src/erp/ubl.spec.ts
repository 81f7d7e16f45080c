import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvoiceV1, validateContract } from '@switchboard/contracts';
import { parseUblInvoice, UblRejected } from './ubl';
import { XmlStream } from './xml';
import * as iconv from 'iconv-lite';

const FIXTURE = join(__dirname, '../../../../test/fixtures/erp/peppol-invoice.xml');

describe('UBL invoices', () => {
  it('maps a PEPPOL BIS 3 invoice onto a valid InvoiceV1', async () => {
    const inv = await parseUblInvoice(readFileSync(FIXTURE));
    const valid = validateContract(InvoiceV1, inv);
    expect(valid).toMatchObject({
      number: 'INV-SB-0001',
      kind: 'invoice',
      status: 'issued',
      typeCode: '380',
      issueDate: '2026-11-20',
      dueDate: '2026-12-20',
      currency: 'EUR',
      orderReference: 'ORDER-REF-PLACEHOLDER',
      buyer: { name: 'Example Buyer AS', taxId: 'NO999999999MVA', endpointId: '0192:999999999' },
      seller: { taxId: 'NL000099998B57' },
      taxTotal: 52.5,
      total: 302.5,
    });
    expect(valid.lines).toEqual([
      expect.objectContaining({ sku: 'LAMP-01', quantity: 10, unitCode: 'C62', price: 20, amount: 200 }),
      expect.objectContaining({ name: 'Returned shade', quantity: -1, price: -50 }),
    ]);
  });

  it('maps a credit note, refuses DTDs and other documents with a code and a position', async () => {
    const credit = readFileSync(FIXTURE, 'utf8')
      .replace(/Invoice-2"/, 'CreditNote-2"')
      .replace(/<Invoice /, '<CreditNote ')
      .replace('</Invoice>', '</CreditNote>')
      .replace(/InvoiceLine>/g, 'CreditNoteLine>')
      .replace(/InvoicedQuantity/g, 'CreditedQuantity')
      .replace(/InvoiceTypeCode>380/g, 'CreditNoteTypeCode>381')
      .replace(/InvoiceTypeCode>/g, 'CreditNoteTypeCode>');
    const cn = await parseUblInvoice(Buffer.from(credit));
    expect(cn).toMatchObject({
      kind: 'credit_note',
      typeCode: '381',
      lines: [{ quantity: 10 }, { quantity: -1 }],
    });

    const dtd = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Invoice>&a;</Invoice>';
    await expect(parseUblInvoice(Buffer.from(dtd))).rejects.toMatchObject({ code: 'XML_UNSAFE' });
    await expect(parseUblInvoice(Buffer.from('<Invoice><a></Invoice>'))).rejects.toThrow(
      /line 1, column \d+/,
    );
    await expect(parseUblInvoice(Buffer.from('<Order/>'))).rejects.toBeInstanceOf(UblRejected);
  });
});

describe('XmlStream', () => {
  it('decodes windows-1251 by its declaration, in any chunking, and refuses deep nesting', () => {
    const doc = iconv.encode(
      '<?xml version="1.0" encoding="windows-1251"?><Товар><Наименование>Ботинки</Наименование></Товар>',
      'win1251',
    );
    const names: string[] = [];
    const s = new XmlStream(
      (p) => p.length === 1,
      (n) => names.push(n.children[0].text),
    );
    for (let i = 0; i < doc.length; i += 7) s.write(doc.subarray(i, i + 7));
    s.end();
    expect(names).toEqual(['Ботинки']);

    const deep = new XmlStream(
      () => false,
      () => undefined,
      undefined,
      { maxDepth: 5, maxCapturedNodes: 10 },
    );
    expect(() => {
      deep.write(Buffer.from('<a><a><a><a><a><a></a></a></a></a></a></a>'));
      deep.end();
    }).toThrow(/deeper than 5/);
  });
});
