import { Controller, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ContractViolation, EventType, NotFoundError } from '@switchboard/contracts';
import type { FastifyReply } from 'fastify';
import { ProviderAuthGuard } from './auth/peer-auth.guard';
import { providerRequest } from './auth/signed-request';
import type { PeerRequest } from './auth/strategies';
import { IngestService } from './ingest.service';
import { PROVIDERS, type HandshakeReply } from './providers';

/** Webhooks in the providers' own formats, authenticated by their own signatures. */
@Controller('v1/providers')
export class ProvidersController {
  constructor(private readonly ingest: IngestService) {}

  /** GET only for handshakes (Zadarma checks its webhook URL with GET ?zd_echo=...). */
  @Get(':provider/:peerId')
  @UseGuards(ProviderAuthGuard)
  @HttpCode(202)
  handshake(
    @Req() req: PeerRequest & { handshake?: HandshakeReply; params: { provider: string } },
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ eventIds: string[] } | string> {
    return this.receive(req, reply);
  }

  @Post(':provider/:peerId')
  @UseGuards(ProviderAuthGuard)
  @HttpCode(202)
  async receive(
    @Req() req: PeerRequest & { handshake?: HandshakeReply; params: { provider: string } },
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ eventIds: string[] } | string> {
    if (req.handshake) {
      void reply.status(req.handshake.status).header('Content-Type', req.handshake.contentType);
      return req.handshake.body;
    }
    const peer = req.user;
    if (req.method !== 'POST' || !peer)
      throw new NotFoundError(`No route ${req.method} ${req.url.split('?')[0]}`);
    const adapter = PROVIDERS.get(req.params.provider);
    if (!adapter) throw new NotFoundError(`Unknown provider "${req.params.provider}".`);
    const events = adapter.toEvents(providerRequest(req), { id: peer.id, timezone: peer.timezone });
    const eventIds: string[] = [];
    for (const e of events) {
      if (!Object.values(EventType).includes(e.type as EventType)) {
        throw new ContractViolation([
          { field: '', rule: 'eventType', message: `unsupported event ${e.type}` },
        ]);
      }
      const { eventId } = await this.ingest.accept({
        type: e.type as EventType,
        peer,
        body: e.payload,
        idempotencyKey: e.idempotencyKey,
      });
      eventIds.push(eventId);
    }
    return { eventIds };
  }
}
