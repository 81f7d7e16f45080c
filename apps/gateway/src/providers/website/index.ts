import type { ProviderAdapter } from '../provider-adapter';
import { shopifyAdapter } from './shopify.adapter';
import { tildaAdapter } from './tilda.adapter';
import { wooCommerceAdapter } from './woocommerce.adapter';

export { shopifyAdapter, tildaAdapter, wooCommerceAdapter };

/** Website providers for the gateway's provider table: shop order webhooks, and Tilda's connection check. */
export const WEBSITE_ADAPTERS: readonly ProviderAdapter[] = [
  wooCommerceAdapter,
  shopifyAdapter,
  tildaAdapter,
];
