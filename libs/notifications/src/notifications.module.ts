import { Module } from '@nestjs/common';
import { DeliveriesStore } from './deliveries.store';
import { NotificationsDb } from './notifications.db';
import { OtpStore } from './otp.store';
import { ProviderCredentials } from './provider-credentials';

/** Needs AppConfig (sections database, notifications), CredentialHasher and SecretBox (PeerSecurityModule). */
@Module({
  providers: [NotificationsDb, ProviderCredentials, OtpStore, DeliveriesStore],
  exports: [NotificationsDb, ProviderCredentials, OtpStore, DeliveriesStore],
})
export class NotificationsModule {}
