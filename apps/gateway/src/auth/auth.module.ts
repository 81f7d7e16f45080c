import { Global, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '@switchboard/config';
import {
  CredentialHasher,
  FailureTracker,
  PeerAdmin,
  PeerAuthenticator,
  PeerDirectory,
  RateLimiter,
  ReplayCache,
} from '@switchboard/peer-auth';
import { SecretBox } from '@switchboard/secrets';
import { DirectorySync, PeerDirectoryProbe } from './directory-sync.service';
import { PeerAuthChain } from './peer-auth.chain';
import { PeerAuthGuard, ProviderAuthGuard } from './peer-auth.guard';
import { ReplayRelease } from './replay-release.hook';
import {
  ApiKeyStrategy,
  BasicAuthStrategy,
  BearerTokenStrategy,
  LoginFieldsStrategy,
  ProviderSignatureStrategy,
  StandardWebhookStrategy,
} from './strategies';
import { StaticKeyStrategy } from './static-key.strategy';

/** Peer authentication at the gateway: the directory, the authenticator, its passport strategies and guards. */
@Global()
@Module({
  imports: [PassportModule.register({ session: false })],
  providers: [
    PeerDirectory,
    DirectorySync,
    PeerDirectoryProbe,
    RateLimiter,
    {
      provide: FailureTracker,
      inject: [AppConfig],
      useFactory: ({ peerAuth: p }: AppConfig) =>
        new FailureTracker({
          peerMaxFailures: p.lockoutPeerMaxFailures,
          ipMaxFailures: p.lockoutIpMaxFailures,
          windowSeconds: p.lockoutWindowSeconds,
          baseSeconds: p.lockoutBaseSeconds,
          maxSeconds: p.lockoutMaxSeconds,
        }),
    },
    {
      provide: ReplayCache,
      inject: [AppConfig],
      useFactory: (c: AppConfig) => new ReplayCache(2 * c.peerAuth.signatureToleranceSeconds * 1000),
    },
    {
      provide: PeerAuthenticator,
      inject: [PeerDirectory, CredentialHasher, FailureTracker, ReplayCache, AppConfig],
      useFactory: (d: PeerDirectory, h: CredentialHasher, f: FailureTracker, r: ReplayCache, c: AppConfig) =>
        new PeerAuthenticator(d, h, f, r, { warnDays: c.peerAuth.credentialWarnDays }),
    },
    {
      provide: PeerAdmin,
      inject: [DirectorySync, CredentialHasher, SecretBox, AppConfig],
      useFactory: (sync: DirectorySync, h: CredentialHasher, box: SecretBox, c: AppConfig) =>
        new PeerAdmin(sync.db, h, box, {
          overlapHours: c.peerAuth.credentialOverlapHours,
          lifetimeDays: c.peerAuth.credentialLifetimeDays,
          warnDays: c.peerAuth.credentialWarnDays,
          rotationMaxPerHour: c.peerAuth.rotationMaxPerHour,
        }),
    },
    BearerTokenStrategy,
    ApiKeyStrategy,
    BasicAuthStrategy,
    LoginFieldsStrategy,
    StandardWebhookStrategy,
    ProviderSignatureStrategy,
    StaticKeyStrategy,
    PeerAuthChain,
    PeerAuthGuard,
    ProviderAuthGuard,
    ReplayRelease,
  ],
  exports: [
    PeerAuthChain,
    ReplayRelease,
    PeerAuthGuard,
    ProviderAuthGuard,
    PeerAdmin,
    DirectorySync,
    PeerDirectoryProbe,
    RateLimiter,
    PeerDirectory,
    PeerAuthenticator,
  ],
})
export class GatewayAuthModule {}
