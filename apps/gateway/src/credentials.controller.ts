import { Controller, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ConflictError } from '@switchboard/contracts';
import { ApiDoc } from '@switchboard/http';
import { PeerAdmin, type AuthenticatedPeer, type IssuedCredential } from '@switchboard/peer-auth';
import { DirectorySync } from './auth/directory-sync.service';
import { Peer, PeerAuthGuard } from './auth/peer-auth.guard';

@Controller('v1/credentials')
@UseGuards(PeerAuthGuard)
export class CredentialsController {
  constructor(
    private readonly admin: PeerAdmin,
    private readonly sync: DirectorySync,
  ) {}

  /**
   * A peer rotates its own credential with a current one: 201 with the new token (shown once). The old one
   * stays valid for the overlap window. The directory is refreshed before answering, so the new token works
   * on this gateway at once (others follow within milliseconds through NOTIFY).
   */
  @Post('rotate')
  @ApiDoc({
    summary:
      'Rotate: a new credential for the calling peer (shown once); the old one stays valid for the overlap.',
    responses: {
      201: {
        description: 'The new credential.',
        schema: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            token: { type: 'string', description: 'Shown once.' },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
  })
  @HttpCode(201)
  // The answer carries a new token: no cache may keep it, no browser may sniff it into something else.
  @Header('Cache-Control', 'no-store')
  @Header('X-Content-Type-Options', 'nosniff')
  async rotate(@Peer() peer: AuthenticatedPeer): Promise<IssuedCredential> {
    if (!peer.credentialId) throw new ConflictError('Rotate with a credential, not with a signature.');
    const issued = await this.admin.issueCredential(peer.id, `peer:${peer.id}`, {
      viaCredential: peer.credentialId,
    });
    await this.sync.reloadPeer(peer.id);
    return issued;
  }
}
