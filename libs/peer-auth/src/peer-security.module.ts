import { Global, Module } from '@nestjs/common';
import { loadKeyring, SecretBox } from '@switchboard/secrets';
import { CredentialHasher, loadPepper } from './credentials/hasher';

/**
 * The two secrets every process that touches credentials needs, read from the environment or files (never the
 * database): the pepper of credential hashes and the master keys of reversible secrets. Missing or malformed
 * material stops the process at start with a message naming the variable.
 */
@Global()
@Module({
  providers: [
    { provide: CredentialHasher, useFactory: () => new CredentialHasher(loadPepper()) },
    { provide: SecretBox, useFactory: () => new SecretBox(loadKeyring()) },
  ],
  exports: [CredentialHasher, SecretBox],
})
export class PeerSecurityModule {}
