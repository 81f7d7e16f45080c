import type { ProviderAdapter } from '../provider-adapter';
import { shopifyAdapter } from './shopify.adapter';
import { taplinkAdapter } from './taplink.adapter';
import { tildaAdapter } from './tilda.adapter';
import { wooCommerceAdapter } from './woocommerce.adapter';

export { shopifyAdapter, taplinkAdapter, tildaAdapter, wooCommerceAdapter };

/** Website providers for the gateway's provider table: shop order webhooks, Tilda and Taplink form leads. */
export const WEBSITE_ADAPTERS: readonly ProviderAdapter[] = [
  wooCommerceAdapter,
  shopifyAdapter,
  tildaAdapter,
  taplinkAdapter,
];
