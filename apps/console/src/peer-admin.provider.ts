import { Injectable, Logger, OnApplicationShutdown, OnModuleInit, Provider } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { CredentialHasher, PeerAdmin, sqlFromDataSource } from '@switchboard/peer-auth';
import { SecretBox } from '@switchboard/secrets';
import { DataSource } from 'typeorm';

export function createPeerAdmin(
  ds: DataSource,
  hasher: CredentialHasher,
  box: SecretBox,
  config: AppConfig,
): PeerAdmin {
  return new PeerAdmin(sqlFromDataSource(ds), hasher, box, {
    overlapHours: config.peerAuth.credentialOverlapHours,
    lifetimeDays: config.peerAuth.credentialLifetimeDays,
    warnDays: config.peerAuth.credentialWarnDays,
    rotationMaxPerHour: config.peerAuth.rotationMaxPerHour,
    retentionDays: config.peerAuth.credentialRetentionDays,
  });
}

export const PeerAdminProvider: Provider = {
  provide: PeerAdmin,
  inject: [DataSource, CredentialHasher, SecretBox, AppConfig],
  useFactory: createPeerAdmin,
};

/**
 * Finds credentials entering their warning window and records one `credential.expiring` audit entry for each
 * (the peer also sees X-Credential-Expires on every call). Runs in the console, which owns the database.
 */
@Injectable()
export class CredentialExpiryMonitor implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('CredentialExpiry');
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly admin: PeerAdmin,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.peerAuth.expirySweepSeconds * 1000);
    this.timer.unref();
    void this.sweep();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    try {
      for (const c of await this.admin.sweepExpiring('system:expiry-monitor')) {
        this.logger.warn({
          message: `credential ${c.credentialId} of peer ${c.peerId} expires at ${c.expiresAt}; rotate it`,
          event: 'credential.expiring',
          peerId: c.peerId,
          credentialId: c.credentialId,
        });
      }
      const purged = await this.admin.purgeDeadCredentials('system:expiry-monitor');
      if (purged) this.logger.log(`purged ${purged} credential(s) dead for over the retention period`);
    } catch (err) {
      this.logger.warn(`expiry sweep failed: ${(err as Error).message}`);
    }
  }
}
