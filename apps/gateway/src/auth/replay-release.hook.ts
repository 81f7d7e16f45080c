import { Injectable } from '@nestjs/common';
import { PeerAuthenticator } from '@switchboard/peer-auth';
import type { FastifyInstance } from 'fastify';
import type { PeerRequest } from './strategies';

/**
 * A signed message's id (Standard Webhooks `webhook-id`) is reserved when its signature verifies, and kept only
 * if the message was accepted (2xx, i.e. after the broker's publish confirm). Refused later on (quota 429,
 * broker 503, an invalid body), the reservation is dropped, so the sender's retry of the same message passes.
 */
@Injectable()
export class ReplayRelease {
  constructor(private readonly auth: PeerAuthenticator) {}

  /** Call before the app initializes (routes take the hooks present when they are registered). */
  install(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', (req, reply, done) => {
      const key = (req as PeerRequest).user?.replayKey;
      if (key !== undefined && (reply.statusCode < 200 || reply.statusCode > 299))
        this.auth.releaseReplay(key);
      done();
    });
  }
}
