import { DomainError, ErrorCode, type InvoiceV1 } from '@switchboard/contracts';
import { child, children, parseXmlDocument, text, XmlError, type XmlNode } from './xml';

/** A UBL document we cannot take: malformed or unsafe XML, or not an Invoice/CreditNote. */
export class UblRejected extends DomainError {
  constructor(code: ErrorCode, message: string) {
    super(code, message, true);
  }
}

const num = (s: string | undefined): number => (s === undefined ? NaN : Number(s.trim()));
const opt = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s.trim()));

function party(p: XmlNode | undefined): InvoiceV1['seller'] {
  const party = child(p, 'Party');
  const endpoint = child(party, 'EndpointID');
  const out: InvoiceV1['seller'] = {
    name:
      text(party, 'PartyLegalEntity', 'RegistrationName') ?? text(party, 'PartyName', 'Name') ?? undefined,
    taxId: text(party, 'PartyTaxScheme', 'CompanyID') ?? text(party, 'PartyLegalEntity', 'CompanyID'),
    endpointId: endpoint?.text
      ? endpoint.attrs.schemeID
        ? `${endpoint.attrs.schemeID}:${endpoint.text}`
        : endpoint.text
      : undefined,
    phone: text(party, 'Contact', 'Telephone'),
    email: text(party, 'Contact', 'ElectronicMail'),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/**
 * UBL 2.1 Invoice or CreditNote (PEPPOL BIS Billing 3.0 included) as an InvoiceV1 payload; the contract then
 * validates it like a JSON invoice. UBL carries no version: the issue date and time stand in for it (a
 * corrected invoice is a new document in UBL anyway). A document with nothing left to pay is `paid`.
 */
export function ublToInvoice(root: XmlNode): InvoiceV1 {
  const credit = root.name === 'CreditNote';
  if (!credit && root.name !== 'Invoice') {
    throw new UblRejected(
      ErrorCode.UNSUPPORTED_DOCUMENT,
      `expected a UBL Invoice or CreditNote, got <${root.name}>`,
    );
  }
  const issueDate = text(root, 'IssueDate') ?? '';
  const issueTime = text(root, 'IssueTime');
  const totals = child(root, 'LegalMonetaryTotal');
  const payable = num(text(totals, 'PayableAmount'));
  const prepaid = opt(text(totals, 'PrepaidAmount'));
  const lineName = credit ? 'CreditNoteLine' : 'InvoiceLine';
  const qtyName = credit ? 'CreditedQuantity' : 'InvoicedQuantity';
  const stamp = Date.parse(`${issueDate}T${issueTime?.slice(0, 8) ?? '00:00:00'}Z`);
  const invoice = {
    number: text(root, 'ID') ?? '',
    kind: credit ? 'credit_note' : 'invoice',
    status: payable === 0 && prepaid !== undefined && prepaid > 0 ? 'paid' : 'issued',
    typeCode: text(root, credit ? 'CreditNoteTypeCode' : 'InvoiceTypeCode'),
    issueDate,
    dueDate: text(root, 'DueDate') ?? text(root, 'PaymentMeans', 'PaymentDueDate'),
    currency: text(root, 'DocumentCurrencyCode') ?? '',
    buyerReference: text(root, 'BuyerReference'),
    orderReference: text(root, 'OrderReference', 'ID') ?? text(root, 'OrderReference', 'SalesOrderID'),
    billingReference: text(root, 'BillingReference', 'InvoiceDocumentReference', 'ID'),
    seller: party(child(root, 'AccountingSupplierParty')),
    buyer: party(child(root, 'AccountingCustomerParty')),
    lines: children(root, lineName).map((l) => {
      const qty = child(l, qtyName);
      const line = {
        sku: text(l, 'Item', 'SellersItemIdentification', 'ID'),
        name: text(l, 'Item', 'Name') ?? '',
        quantity: num(qty?.text),
        unitCode: qty?.attrs.unitCode,
        price: num(text(l, 'Price', 'PriceAmount')),
        amount: num(text(l, 'LineExtensionAmount')),
        taxPercent: opt(text(l, 'Item', 'ClassifiedTaxCategory', 'Percent')),
      };
      return Object.fromEntries(Object.entries(line).filter(([, v]) => v !== undefined));
    }),
    taxTotal: children(root, 'TaxTotal')
      .map((t) => num(text(t, 'TaxAmount')))
      .filter((n) => !Number.isNaN(n))
      .reduce((a, b) => a + b, 0),
    totalWithoutTax: opt(text(totals, 'TaxExclusiveAmount')),
    total: payable,
    paidAt: undefined as string | undefined,
    version: Number.isNaN(stamp) ? 0 : stamp,
  };
  return Object.fromEntries(
    Object.entries(invoice).filter(([, v]) => v !== undefined),
  ) as unknown as InvoiceV1;
}

/** Bytes of a UBL document -> InvoiceV1; XML problems become UblRejected with line and column. */
export async function parseUblInvoice(bytes: Buffer): Promise<InvoiceV1> {
  let root: XmlNode;
  try {
    root = parseXmlDocument(bytes);
  } catch (err) {
    if (err instanceof XmlError) {
      throw new UblRejected(err.unsafe ? ErrorCode.XML_UNSAFE : ErrorCode.XML_MALFORMED, err.message);
    }
    throw err;
  }
  return Promise.resolve(ublToInvoice(root));
}
