import type { ProviderAdapter } from '../provider-adapter';
import { shopifyAdapter } from './shopify.adapter';
import { wooCommerceAdapter } from './woocommerce.adapter';

export { shopifyAdapter, wooCommerceAdapter };

/** Shop (order webhook) providers for the gateway's provider table. */
export const WEBSITE_ADAPTERS: readonly ProviderAdapter[] = [wooCommerceAdapter, shopifyAdapter];
