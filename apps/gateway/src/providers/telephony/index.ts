import type { ProviderAdapter } from '../provider-adapter';
import { asteriskAdapter } from './asterisk.adapter';
import { bitrix24Adapter } from './bitrix24.adapter';
import { mangoAdapter } from './mango.adapter';
import { twilioAdapter } from './twilio.adapter';
import { zadarmaAdapter } from './zadarma.adapter';

export { asteriskAdapter, bitrix24Adapter, mangoAdapter, twilioAdapter, zadarmaAdapter };

/** Telephony providers for the gateway's provider table. */
export const TELEPHONY_ADAPTERS: readonly ProviderAdapter[] = [
  twilioAdapter,
  zadarmaAdapter,
  mangoAdapter,
  asteriskAdapter,
  bitrix24Adapter,
];
