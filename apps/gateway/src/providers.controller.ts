import { Controller, Get, HttpCode, OnModuleInit, Post, Req, Res, UseGuards } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AuthError, ContractViolation, isEventType, NotFoundError } from '@switchboard/contracts';
import { scopeAllows } from '@switchboard/peer-auth';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiDoc } from '@switchboard/http';
import { ProviderAuthGuard } from './auth/peer-auth.guard';
import { providerRequest } from './auth/signed-request';
import type { PeerRequest } from './auth/strategies';
import { IngestService } from './ingest.service';
import { PROVIDERS, type HandshakeReply } from './providers';
import { acceptProviderTextBodies } from './providers/text-bodies';

const BASE = 'v1/providers';
/**
 * The base URL a peer gives its provider, and any path below it: Mango posts to `<base>/events/call`,
 * `<base>/events/summary`, ... The sub-path reaches the adapter as `subPath`; auth is the same for both.
 */
const ROUTES = [':provider/:peerId', ':provider/:peerId/*'];

type ProviderRoute = PeerRequest & {
  handshake?: HandshakeReply;
  params: { provider: string; peerId: string; '*'?: string };
};

/** Webhooks in the providers' own formats, authenticated by their own signatures. */
@Controller(BASE)
@ApiDoc({
  tags: ['Providers'],
  description:
    'The webhook URL given to a provider; `provider` is one of ' +
    [...PROVIDERS.keys()].join(', ') +
    '. The body is the provider’s own format, checked with its own signature and mapped to our contracts.',
  body: {
    required: false,
    raw: {
      'application/json': 'The provider’s JSON webhook (WooCommerce, Shopify, Bitrix24, Asterisk bridge...).',
      'application/x-www-form-urlencoded':
        'The provider’s form post (Tilda, Taplink, Twilio, Zadarma, Mango).',
      'text/plain': 'Bodies some providers send as text.',
    },
  },
  responses: {
    202: {
      description: 'Every event of the webhook is confirmed by the broker.',
      schema: {
        type: 'object',
        properties: { eventIds: { type: 'array', items: { type: 'string', format: 'uuid' } } },
        required: ['eventIds'],
      },
    },
    200: {
      description: 'A handshake answer, or a test notification checked and dropped (droppedTestEvents).',
    },
  },
})
export class ProvidersController implements OnModuleInit {
  constructor(
    private readonly ingest: IngestService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    acceptProviderTextBodies(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), `/${BASE}/`);
  }

  /** GET only for handshakes (Zadarma checks its webhook URL with GET ?zd_echo=...). */
  @Get(ROUTES)
  @UseGuards(ProviderAuthGuard)
  @HttpCode(202)
  handshake(
    @Req() req: ProviderRoute,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ eventIds: string[]; droppedTestEvents?: number } | string> {
    return this.receive(req, reply);
  }

  @Post(ROUTES)
  @UseGuards(ProviderAuthGuard)
  @HttpCode(202)
  async receive(
    @Req() req: ProviderRoute,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ eventIds: string[]; droppedTestEvents?: number } | string> {
    if (req.handshake) {
      void reply.status(req.handshake.status).header('Content-Type', req.handshake.contentType);
      return req.handshake.body;
    }
    const peer = req.user;
    if (req.method !== 'POST' || !peer)
      throw new NotFoundError(`No route ${req.method} ${req.url.split('?')[0]}`);
    const adapter = PROVIDERS.get(req.params.provider);
    if (!adapter) throw new NotFoundError(`Unknown provider "${req.params.provider}".`);
    const events = adapter.toEvents(
      { ...providerRequest(req), subPath: req.params['*'] ?? '' },
      { id: peer.id, timezone: peer.timezone },
    );
    // All checks before the first publish, so one request is not half-accepted (Zadarma's NOTIFY_END
    // gives ended + completed + recording.ready; a peer scoped to some of them gets a 403 and nothing).
    const accepted = events.map((e) => {
      if (!isEventType(e.type)) {
        throw new ContractViolation([
          { field: '', rule: 'eventType', message: `unsupported event ${e.type}` },
        ]);
      }
      if (!scopeAllows(peer.scopes, e.type)) {
        throw new AuthError('AUTH_SCOPE_DENIED', `This peer may not send ${e.type} events.`);
      }
      return { type: e.type, body: e.payload, idempotencyKey: e.idempotencyKey };
    });
    // A test notification the peer wants dropped: answered 200 (the provider shows the test as delivered),
    // after the same checks a real one gets, so a dropped test still proves the whole set-up works.
    const dropTests = peer.testDeliveries === 'drop';
    const toPublish = dropTests ? accepted.filter((e) => e.body.test !== true) : accepted;
    const eventIds: string[] = [];
    for (const e of toPublish) eventIds.push((await this.ingest.accept({ ...e, peer })).eventId);
    if (toPublish.length === accepted.length) return { eventIds };
    void reply.status(200);
    return { eventIds, droppedTestEvents: accepted.length - toPublish.length };
  }
}
