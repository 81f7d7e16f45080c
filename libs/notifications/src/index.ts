// One-time codes and customer messages over WhatsApp with SMS fallback (issue 16.4, 16.5): the rules, the
// stores both the gateway (takes codes, verifies them, takes provider webhooks) and apps/outbound (sends) use.
export * from './otp.rules';
export * from './delivery.rules';
export * from './notifications.db';
export * from './provider-credentials';
export * from './otp.store';
export * from './deliveries.store';
export * from './provider-webhooks';
export * from './outbox-cursor';
export * from './notifications.module';
