import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsBusinessDate, IsDecimal, IsExternalId, IsVersion, OptionalEmail, OptionalText } from './common';

export const INVOICE_STATUSES = ['issued', 'paid', 'cancelled'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export class InvoicePartyDto {
  @OptionalText(500)
  name?: string;

  /** VAT id / ИНН: how a buyer company is found. */
  @OptionalText(50)
  taxId?: string;

  /** PEPPOL EndpointID (`0088:7300010000001`) or GLN. */
  @OptionalText(200)
  endpointId?: string;

  @OptionalText(40)
  phone?: string;

  @OptionalEmail()
  email?: string;
}

export class InvoiceLineDto {
  @OptionalText(100)
  sku?: string;

  /** The ERP's product id (1C Ид), when known. */
  @IsOptional()
  @IsExternalId()
  productExternalId?: string;

  @IsString()
  @MaxLength(1000)
  name: string;

  /** Negative on corrections (UBL allows -1). */
  @IsDecimal(4)
  quantity: number;

  /** UN/ECE rec. 20 unit code (C62, H87) or the ERP's unit name. */
  @OptionalText(50)
  unitCode?: string;

  @IsDecimal(4)
  price: number;

  @IsDecimal(4)
  amount: number;

  @IsOptional()
  @IsDecimal(4, 0, 100)
  taxPercent?: number;
}

/**
 * `erp.invoice.issued|paid|cancelled` v1: one invoice (or credit note) of the ERP as it stands now; the type
 * follows `status`. Linked to its deal by `orderReference` (the site's order id or our deal id) or
 * `dealExternalId`, and to a contact by the buyer's tax id, phone or email.
 */
export class InvoiceV1 {
  /** The ERP's invoice number (UBL cbc:ID), unique per peer and kind. */
  @IsExternalId()
  number: string;

  @IsIn(['invoice', 'credit_note'])
  kind: 'invoice' | 'credit_note';

  @IsIn(INVOICE_STATUSES)
  status: InvoiceStatus;

  /** UBL InvoiceTypeCode / CreditNoteTypeCode (380, 381, ...). */
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,4}$/)
  typeCode?: string;

  @IsBusinessDate()
  issueDate: string;

  @IsOptional()
  @IsBusinessDate()
  dueDate?: string;

  @IsOptional()
  @IsBusinessDate()
  paidAt?: string;

  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as EUR' })
  currency: string;

  @OptionalText(200)
  buyerReference?: string;

  @OptionalText(200)
  orderReference?: string;

  @OptionalText(200)
  dealExternalId?: string;

  /** The invoice a credit note corrects (UBL BillingReference). */
  @OptionalText(200)
  billingReference?: string;

  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => InvoicePartyDto)
  seller: InvoicePartyDto;

  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => InvoicePartyDto)
  buyer: InvoicePartyDto;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(2000)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => InvoiceLineDto)
  lines: InvoiceLineDto[];

  @IsDecimal(4)
  taxTotal: number;

  @IsOptional()
  @IsDecimal(4)
  totalWithoutTax?: number;

  /** What the buyer pays (UBL PayableAmount). */
  @IsDecimal(4)
  total: number;

  @IsVersion()
  version: number;
}

export const ERP_ORDER_STATUSES = ['processing', 'paid', 'shipped', 'delivered', 'cancelled'] as const;
export type ErpOrderStatus = (typeof ERP_ORDER_STATUSES)[number];

/** `erp.order.status-changed` v1: a site order's state in the ERP (1C `type=sale&mode=file`). */
export class OrderStatusChangedV1 {
  /** Our deal id (what `sale&mode=query` sent as Ид) or the site's order number. */
  @IsExternalId()
  orderId: string;

  @IsIn(ERP_ORDER_STATUSES)
  status: ErpOrderStatus;

  /** The ERP's own document number (1C `Номер1С` / "Номер по 1С"). */
  @OptionalText(200)
  erpNumber?: string;

  @IsOptional()
  @IsBusinessDate()
  paidAt?: string;

  @IsOptional()
  @IsBusinessDate()
  shippedAt?: string;

  @OptionalText(200)
  paymentNumber?: string;

  @OptionalText(200)
  shipmentNumber?: string;

  @IsVersion()
  version: number;
}
