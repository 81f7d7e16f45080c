import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsDecimal, IsExternalId, IsVersion, OptionalText } from './common';

export class ProductPropertyDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @IsString()
  @MaxLength(2000)
  value: string;
}

/** `erp.product.upserted` v1: the whole current state of one product (1C `Товар`). */
export class ProductUpsertedV1 {
  /** 1C `Ид`; a variant is `<product guid>#<characteristic guid>`. The identity: never the name. */
  @IsExternalId()
  externalId: string;

  /** 1C `Артикул`, kept as sent (1C allows spaces: "Б- 130005"). */
  @OptionalText(100)
  sku?: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  name: string;

  /** Group names from the root of the classifier down to the product's group. */
  @IsArray()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @MaxLength(500, { each: true })
  groupPath: string[];

  /** Base unit, e.g. "шт" or 1C's unit code "796". */
  @OptionalText(100)
  unit?: string;

  @OptionalText(100)
  barcode?: string;

  @IsArray()
  @ArrayMaxSize(500)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => ProductPropertyDto)
  properties: ProductPropertyDto[];

  @IsBoolean()
  active: boolean;

  @IsVersion()
  version: number;
}

export class PriceDto {
  /** 1C `ИдТипаЦены` or any price-list id. */
  @IsExternalId()
  priceType: string;

  @OptionalText(200)
  priceTypeName?: string;

  /** ISO 4217 (the 1C parser maps "руб" to RUB). */
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as RUB' })
  currency: string;

  @IsDecimal(4, 0)
  value: number;

  @OptionalText(100)
  unit?: string;
}

/** `erp.price.updated` v1: every price of one product now (per price type). */
export class PriceUpdatedV1 {
  @IsExternalId()
  productExternalId: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => PriceDto)
  prices: PriceDto[];

  @IsVersion()
  version: number;
}

export class WarehouseStockDto {
  @IsExternalId()
  warehouseId: string;

  @OptionalText(500)
  warehouseName?: string;

  @IsDecimal(3)
  quantity: number;
}

/**
 * `erp.stock.updated` v1: the stock of one product now, per warehouse and in total (1C's `Количество` may
 * differ from the warehouses' sum when stock sits outside listed warehouses). Warehouses not listed hold none.
 */
export class StockUpdatedV1 {
  @IsExternalId()
  productExternalId: string;

  @IsDecimal(3)
  total: number;

  @IsArray()
  @ArrayMaxSize(1000)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => WarehouseStockDto)
  warehouses: WarehouseStockDto[];

  @IsVersion()
  version: number;
}

/**
 * `erp.catalog.completed` v1: a full 1C catalog upload (СодержитТолькоИзменения=false) ended; every product of
 * the peer it did not list becomes inactive with zero stock (never deleted). `listed` lets the connector wait
 * until all of the upload's product events are in before it deactivates anything.
 */
export class CatalogCompletedV1 {
  @IsExternalId()
  uploadId: string;

  @IsVersion()
  version: number;

  @IsVersion()
  listed: number;

  @IsOptional()
  @IsBoolean()
  full?: boolean;
}

/**
 * `erp.catalog.batch` v1: many catalog facts of one 1C upload in one event (the exchange sends a batch per
 * few hundred elements instead of an event per product, price set and stock). Each fact keeps its own version
 * and is applied exactly like its single event.
 */
export class CatalogBatchV1 {
  /** `<upload>:<sequence>`: the batch's identity (its natural key). */
  @IsExternalId()
  batchId: string;

  @IsArray()
  @ArrayMaxSize(2000)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => ProductUpsertedV1)
  products: ProductUpsertedV1[];

  @IsArray()
  @ArrayMaxSize(2000)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => PriceUpdatedV1)
  prices: PriceUpdatedV1[];

  @IsArray()
  @ArrayMaxSize(2000)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => StockUpdatedV1)
  stock: StockUpdatedV1[];
}
