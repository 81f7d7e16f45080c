import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Module, type LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from '@switchboard/config';
import { AuthError, ContractViolation, type EventEnvelope } from '@switchboard/contracts';
import { createHttpApp, installFastRoutes } from '@switchboard/http';
import { ConfirmedPublisher, TopologyNames } from '@switchboard/messaging';
import { Metrics } from '@switchboard/observability';
import {
  buildPhpForm,
  mangoFormBody,
  PeerAuthenticator,
  PeerDirectory,
  RateLimiter,
  signAsterisk,
  signTwilio,
  signZadarmaEvent,
  type AuthenticatedPeer,
  type VerifyResult,
} from '@switchboard/peer-auth';
import { PeerAuthChain } from './auth/peer-auth.chain';
import { PeerAuthGuard, ProviderAuthGuard } from './auth/peer-auth.guard';
import { StaticKeyStrategy } from './auth/static-key.strategy';
import {
  ApiKeyStrategy,
  BasicAuthStrategy,
  BearerTokenStrategy,
  LoginFieldsStrategy,
  ProviderSignatureStrategy,
  StandardWebhookStrategy,
} from './auth/strategies';
import { IngestService } from './ingest.service';
import { ProvidersController } from './providers.controller';
import { parseCallEventType, splitCallEvent, TelephonyController } from './telephony.controller';

const event = {
  provider: 'generic',
  providerCallId: 'call-1',
  direction: 'inbound',
  from: '+79123456789',
  to: '+74951234567',
  occurredAt: '2026-11-23T10:00:09Z',
  answeredAt: '2026-11-23T10:00:09Z',
  extension: '101',
};

const record = {
  provider: 'generic',
  providerCallId: 'call-1',
  direction: 'inbound',
  from: '+79123456789',
  to: '+74951234567',
  startedAt: '2026-11-23T10:00:00Z',
  endedAt: '2026-11-23T10:01:09Z',
  disposition: 'answered',
  durationSeconds: 69,
};

function violation(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ContractViolation);
    return (e as ContractViolation).errors.map((x) => `${x.field}:${x.rule}`);
  }
  throw new Error('expected a ContractViolation');
}

describe('parseCallEventType', () => {
  it.each([
    ['telephony.call.started', 'telephony.call.started'],
    ['started', 'telephony.call.started'],
    ['ringing', 'telephony.call.ringing'],
    ['answered', 'telephony.call.answered'],
    ['telephony.call.transferred', 'telephony.call.transferred'],
    ['ended', 'telephony.call.ended'],
    ['recording.ready', 'telephony.call.recording.ready'],
    ['telephony.call.recording.ready', 'telephony.call.recording.ready'],
  ])('%p -> %p', (raw, type) => expect(parseCallEventType(raw)).toBe(type));

  it.each([
    undefined,
    null,
    '',
    'ANSWERED',
    ' answered',
    'call.answered',
    'recording',
    'recordingReady',
    'completed',
    'telephony.call.completed',
    'telephony.call.',
    'website.order.submitted',
    'telephony.call.telephony.call.answered',
    42,
    ['answered'],
  ])('refuses %p', (raw) => expect(parseCallEventType(raw)).toBeNull());
});

describe('splitCallEvent', () => {
  it('strips type from the payload, accepting the full or the short name', () => {
    expect(splitCallEvent({ type: 'answered', ...event })).toEqual({
      type: 'telephony.call.answered',
      payload: event,
    });
    const body = { ...event, type: 'telephony.call.answered' };
    expect(splitCallEvent(body).payload).not.toHaveProperty('type');
    expect(body.type).toBe('telephony.call.answered'); // the caller's object is left alone
  });

  it('reports a missing or unknown type together with the payload errors', () => {
    expect(violation(() => splitCallEvent(event))).toEqual(['type:isNotEmpty']);
    expect(violation(() => splitCallEvent({ ...event, type: 'exploded' }))).toEqual(['type:isIn']);
    expect(violation(() => splitCallEvent({ ...event, type: 'answerd', direction: 'sideways' }))).toEqual([
      'type:isIn',
      'direction:isIn',
    ]);
    const cdr = (() => {
      try {
        splitCallEvent({ ...event, type: 'completed' });
      } catch (e) {
        return (e as ContractViolation).errors[0].message;
      }
    })();
    expect(cdr).toContain('/v1/telephony/cdr');
  });

  it.each([null, [], 'answered', 7])('refuses a non-object body %p', (body) => {
    expect(violation(() => splitCallEvent(body))).toEqual([':isObject']);
  });
});

// ---- HTTP wiring: real routes, guards, provider strategy and ingest validation; a fake broker and directory.

interface FakePeer extends AuthenticatedPeer {
  secret: string;
}

const peer = (id: string, provider: string, secret: string, scopes = ['telephony.*']): FakePeer => ({
  id,
  kind: 'telephony',
  provider: provider as AuthenticatedPeer['provider'],
  scopes,
  rateLimitPerMinute: null,
  timezone: 'Europe/Moscow',
  credentialId: null,
  via: 'provider',
  expiryWarning: null,
  secret,
});

const MANGO = { apiKey: 'mangokey', apiSalt: 'mangosalt' };
const PEERS = [
  peer('pbx', 'generic', ''),
  peer('shop', 'generic', '', ['website.*']),
  peer('mango-1', 'mango', `${MANGO.apiKey}:${MANGO.apiSalt}`),
  peer('tw-1', 'twilio', 'twilio-auth-token'),
  peer('zd-1', 'zadarma', 'zadarma-secret'),
  peer('zd-ended-only', 'zadarma', 'zadarma-secret', ['telephony.call.ended']),
  peer('ast-1', 'asterisk', 'asterisk-secret'),
  peer('b24-1', 'bitrix24', 'b24-app-token'),
];

/** The directory's answer without the directory: the peer's secret must verify, and its provider match. */
const fakeAuthenticator = {
  /** Bearer `<peerId>` stands for a valid credential of that peer. */
  byToken(token: string): AuthenticatedPeer {
    const p = PEERS.find((x) => x.id === token);
    if (!p) throw new AuthError('AUTH_INVALID', 'The credentials were not accepted.');
    return p;
  },
  async bySignature(
    peerId: string,
    _ip: string,
    _via: string,
    verify: (secret: string) => VerifyResult | Promise<VerifyResult>,
    _replayId?: string,
    provider?: string,
  ): Promise<AuthenticatedPeer> {
    const p = PEERS.find((x) => x.id === peerId && x.provider === provider);
    const result = await verify(p?.secret ?? 'x'.repeat(32));
    if (!p || !result.ok)
      throw new AuthError('AUTH_SIGNATURE_INVALID', 'The request signature does not match.');
    return p;
  },
};

const PEER_STRATEGY_CLASSES = [
  StandardWebhookStrategy,
  BearerTokenStrategy,
  ApiKeyStrategy,
  BasicAuthStrategy,
  LoginFieldsStrategy,
];

const published: EventEnvelope[] = [];

@Module({
  // As the gateway serves them: the telephony routes straight on Fastify (fast routes), providers through Nest.
  controllers: [ProvidersController],
  providers: [
    TelephonyController,
    PeerAuthChain,
    StaticKeyStrategy,
    IngestService,
    Metrics,
    RateLimiter,
    ...PEER_STRATEGY_CLASSES,
    ProviderSignatureStrategy,
    ProviderAuthGuard,
    PeerAuthGuard,
    { provide: PeerAuthenticator, useValue: fakeAuthenticator },
    {
      provide: PeerDirectory,
      useValue: {
        peer: (id: string) =>
          PEERS.find((p) => p.id === id) && { ...PEERS.find((p) => p.id === id), status: 'active' },
      },
    },
    {
      provide: AppConfig,
      useValue: {
        peerAuth: {
          defaultRateLimitPerMinute: 100_000,
          signatureToleranceSeconds: 300,
          asteriskV1Signatures: false,
        },
      },
    },
    { provide: TopologyNames, useValue: new TopologyNames('unit') },
    {
      provide: ConfirmedPublisher,
      useValue: {
        publish: async (_exchange: string, _key: string, body: Buffer) => {
          published.push(JSON.parse(body.toString('utf8')) as EventEnvelope);
        },
      },
    },
  ],
})
class WiringModule {}

const silent: LoggerService = { log: () => undefined, error: () => undefined, warn: () => undefined };

describe('telephony HTTP wiring', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createHttpApp(WiringModule, { logger: silent, rawBody: true, trustProxy: '127.0.0.1' });
    installFastRoutes(
      app.getHttpAdapter().getInstance(),
      app.get(TelephonyController),
      new Map([[PeerAuthGuard, app.get(PeerAuthChain).hook]]),
    );
    await app.init();
    app.flushLogs();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());
  beforeEach(() => {
    published.length = 0;
  });

  const inject = (opts: {
    method?: string;
    url: string;
    body?: string | object;
    headers?: Record<string, string>;
  }) =>
    app.inject({
      method: (opts.method ?? 'POST') as 'POST',
      url: opts.url,
      headers: {
        ...(opts.body !== undefined && typeof opts.body !== 'string'
          ? { 'content-type': 'application/json' }
          : {}),
        ...opts.headers,
      },
      payload: typeof opts.body === 'string' ? opts.body : opts.body && JSON.stringify(opts.body),
    });

  describe('POST /v1/telephony/events and /cdr', () => {
    const bearer = (id: string) => ({ authorization: `Bearer ${id}` });

    it('publishes a call event without its type field; the idempotency key is the header or the natural key', async () => {
      const a = await inject({
        url: '/v1/telephony/events',
        body: { type: 'answered', ...event },
        headers: bearer('pbx'),
      });
      expect(a.statusCode).toBe(202);
      expect(a.json()).toEqual({ eventId: published[0].id });
      expect(published[0]).toMatchObject({
        type: 'telephony.call.answered',
        peerId: 'pbx',
        idempotencyKey: 'generic:call-1:answered',
        occurredAt: '2026-11-23T10:00:09Z',
        schemaVersion: 1,
        payload: event,
      });
      const b = await inject({
        url: '/v1/telephony/events',
        body: { ...event, type: 'telephony.call.recording.ready', recordingUrl: 'https://rec.example/1.mp3' },
        headers: { ...bearer('pbx'), 'idempotency-key': 'rec-1' },
      });
      expect(b.statusCode).toBe(202);
      expect(published[1]).toMatchObject({ type: 'telephony.call.recording.ready', idempotencyKey: 'rec-1' });
    });

    it('publishes a CDR as telephony.call.completed', async () => {
      const res = await inject({ url: '/v1/telephony/cdr', body: record, headers: bearer('pbx') });
      expect(res.statusCode).toBe(202);
      expect(published[0]).toMatchObject({
        type: 'telephony.call.completed',
        idempotencyKey: 'generic:call-1:cdr:2026-11-23T10:00:00Z',
        occurredAt: '2026-11-23T10:01:09Z',
      });
    });

    it('answers 400 VALIDATION_FAILED with field errors and publishes nothing', async () => {
      for (const [url, body, fields] of [
        ['/v1/telephony/events', { ...event, type: 'exploded' }, ['type']],
        ['/v1/telephony/events', event, ['type']],
        ['/v1/telephony/events', { ...event, type: 'answered', durationSeconds: '17' }, ['durationSeconds']],
        ['/v1/telephony/cdr', { ...record, type: 'completed' }, ['type']],
        ['/v1/telephony/cdr', { ...record, startedAt: '2026-11-23 10:00:00' }, ['startedAt']],
      ] as const) {
        const res = await inject({ url, body, headers: bearer('pbx') });
        expect(res.statusCode).toBe(400);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json().code).toBe('VALIDATION_FAILED');
        expect([...new Set(res.json().errors.map((e: { field: string }) => e.field))]).toEqual(fields);
      }
      const header = await inject({
        url: '/v1/telephony/cdr',
        body: record,
        headers: { ...bearer('pbx'), 'idempotency-key': 'has space' },
      });
      expect(header.json().errors[0].field).toBe('Idempotency-Key');
      expect(published).toEqual([]);
    });

    it('refuses a peer without telephony scopes, and non-JSON bodies', async () => {
      const res = await inject({
        url: '/v1/telephony/events',
        body: { type: 'started', ...event },
        headers: bearer('shop'),
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('AUTH_SCOPE_DENIED');
      const text = await inject({
        url: '/v1/telephony/events',
        body: 'type=started',
        headers: { ...bearer('pbx'), 'content-type': 'text/plain' },
      });
      expect(text.statusCode).toBe(415);
      expect(text.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(published).toEqual([]);
    });

    it('answers other methods with 404/405 problem+json', async () => {
      for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) {
        for (const url of ['/v1/telephony/events', '/v1/telephony/cdr']) {
          const res = await inject({ method, url, headers: bearer('pbx') });
          // HEAD answers carry no body, so no content type either.
          const problem =
            method === 'HEAD' || String(res.headers['content-type']).includes('application/problem+json');
          expect({ method, url, status: [404, 405].includes(res.statusCode), problem }).toEqual({
            method,
            url,
            status: true,
            problem: true,
          });
        }
      }
    });
  });

  describe('POST /v1/providers/:provider/:peerId[/sub-path]', () => {
    const dir = join(__dirname, '../../../test/fixtures/providers/telephony');
    const mangoJson = readFileSync(join(dir, 'mango/events-call.appeared.abonent.json.txt'), 'utf8');
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    it('routes Mango sub-paths to the adapter and authenticates them like the base URL', async () => {
      const body = mangoFormBody(mangoJson, MANGO);
      const call = await inject({ url: '/v1/providers/mango/mango-1/events/call', body, headers: form });
      expect(call.statusCode).toBe(202);
      expect(call.json().eventIds).toHaveLength(1);
      expect(published[0]).toMatchObject({ type: 'telephony.call.ringing', peerId: 'mango-1' });

      const other = await inject({ url: '/v1/providers/mango/mango-1/events/dtmf/', body, headers: form });
      expect(other.statusCode).toBe(202);
      expect(other.json()).toEqual({ eventIds: [] });

      const wrongSalt = mangoFormBody(mangoJson, { ...MANGO, apiSalt: 'other' });
      const bad = await inject({
        url: '/v1/providers/mango/mango-1/events/call',
        body: wrongSalt,
        headers: form,
      });
      expect(bad.statusCode).toBe(401);
      expect(bad.json().code).toBe('AUTH_SIGNATURE_INVALID');

      const base = await inject({ url: '/v1/providers/mango/mango-1', body, headers: form });
      expect(base.statusCode).toBe(400);
      expect(base.json().errors[0].rule).toBe('isMangoEvent');
      const deep = await inject({ url: '/v1/providers/mango/mango-1/x/events/call', body, headers: form });
      expect(deep.statusCode).toBe(400);
      expect(published).toHaveLength(1);
    });

    it('verifies Twilio against the public URL, also behind a trusted proxy', async () => {
      const params = {
        CallSid: 'CA1',
        CallStatus: 'ringing',
        Direction: 'inbound',
        From: '+79123456789',
        To: '+74951234567',
        Timestamp: 'Mon, 23 Nov 2026 10:00:00 +0000',
      };
      const body = new URLSearchParams(params).toString();
      const path = '/v1/providers/twilio/tw-1?source=status';
      const direct = await inject({
        url: path,
        body,
        headers: {
          ...form,
          host: 'gw.local:8080',
          'x-twilio-signature': signTwilio(`http://gw.local:8080${path}`, params, 'twilio-auth-token'),
        },
      });
      expect(direct.statusCode).toBe(202);
      const proxied = await inject({
        url: path,
        body,
        headers: {
          ...form,
          host: 'gateway:8080',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'sb.example.com',
          'x-twilio-signature': signTwilio(`https://sb.example.com${path}`, params, 'twilio-auth-token'),
        },
      });
      expect(proxied.statusCode).toBe(202);
      expect(published.map((e) => e.type)).toEqual(['telephony.call.ringing', 'telephony.call.ringing']);
    });

    it('keeps the Zadarma GET ?zd_echo handshake, unauthenticated and publishing nothing', async () => {
      const res = await inject({ method: 'GET', url: '/v1/providers/zadarma/zd-1?zd_echo=abc123' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('abc123');
      expect(res.headers['content-type']).toContain('text/plain');
      const unsigned = await inject({ method: 'GET', url: '/v1/providers/zadarma/zd-1' });
      expect(unsigned.statusCode).toBe(401);
      // Only a Zadarma peer's route echoes: not an unknown peer's, not another provider's peer's.
      for (const url of [
        '/v1/providers/zadarma/nobody?zd_echo=abc',
        '/v1/providers/zadarma/ast-1?zd_echo=abc',
      ]) {
        const refused = await inject({ method: 'GET', url });
        expect({ url, status: refused.statusCode, code: refused.json().code }).toEqual({
          url,
          status: 404,
          code: 'NOT_FOUND',
        });
      }
      expect(published).toEqual([]);
    });

    it('publishes nothing of a multi-event request when one event is outside the peer scopes', async () => {
      const fields = {
        event: 'NOTIFY_END',
        call_start: '2026-11-23 13:00:00',
        pbx_call_id: 'in_1',
        caller_id: '+79123456789',
        called_did: '74951234567',
        internal: '101',
        duration: '65',
        disposition: 'answered',
        status_code: '16',
        is_recorded: '0',
      };
      const body = new URLSearchParams(fields).toString();
      const headers = { ...form, signature: signZadarmaEvent(fields, 'zadarma-secret')! };
      const denied = await inject({ url: '/v1/providers/zadarma/zd-ended-only', body, headers });
      expect(denied.statusCode).toBe(403);
      expect(published).toEqual([]);
      const ok = await inject({ url: '/v1/providers/zadarma/zd-1', body, headers });
      expect(ok.statusCode).toBe(202);
      expect(published.map((e) => e.type)).toEqual(['telephony.call.ended', 'telephony.call.completed']);
      expect(published[1].payload).toMatchObject({
        startedAt: '2026-11-23T10:00:00.000Z',
        durationSeconds: 65,
      });
    });

    it('accepts Asterisk Master.csv as text/csv on provider routes only', async () => {
      const csv =
        '"","+79123456789","101","from-trunk","""Иван Петров"" <+79123456789>","PJSIP/trunk-01","PJSIP/101-02",' +
        '"Dial","PJSIP/101,30","2026-11-23 13:00:00","","2026-11-23 13:00:30",30,0,"NO ANSWER","DOCUMENTATION",' +
        '"1763892000.1",""\n';
      const signed = (body: string, target = '/v1/providers/asterisk/ast-1') => {
        const timestampSeconds = Math.floor(Date.now() / 1000);
        return {
          'x-signature-timestamp': String(timestampSeconds),
          'x-signature': signAsterisk(
            { method: 'POST', target, timestampSeconds, rawBody: body },
            'asterisk-secret',
          ),
        };
      };
      const res = await inject({
        url: '/v1/providers/asterisk/ast-1',
        body: csv,
        headers: { 'content-type': 'text/csv; charset=utf-8', ...signed(csv) },
      });
      expect(res.statusCode).toBe(202);
      expect(published[0].payload).toMatchObject({
        callerName: 'Иван Петров',
        disposition: 'missed',
        startedAt: '2026-11-23T10:00:00.000Z',
      });
      expect(published[0].payload).not.toHaveProperty('answeredAt');
      const tampered = await inject({
        url: '/v1/providers/asterisk/ast-1',
        body: csv.replace('30,0', '31,0'),
        headers: { 'content-type': 'text/csv', ...signed(csv) },
      });
      expect(tampered.statusCode).toBe(401);
      const elsewhere = await inject({
        url: '/v1/telephony/cdr',
        body: csv,
        headers: { 'content-type': 'text/csv', authorization: 'Bearer pbx' },
      });
      expect(elsewhere.statusCode).toBe(415);
      expect(published).toHaveLength(1);
    });

    it('reads Bitrix24 PHP-style form bodies', async () => {
      const sample = JSON.parse(
        readFileSync(join(dir, 'bitrix24/ONEXTERNALCALLSTART.event-handler-body.json.txt'), 'utf8'),
      );
      const body = buildPhpForm({ ...sample, auth: { ...sample.auth, application_token: 'b24-app-token' } });
      expect(body).toContain('data%5BPHONE_NUMBER%5D=');
      const res = await inject({ url: '/v1/providers/bitrix24/b24-1', body, headers: form });
      expect(res.statusCode).toBe(202);
      expect(published[0]).toMatchObject({ type: 'telephony.call.started', peerId: 'b24-1' });
    });

    it('answers unknown providers and methods without publishing', async () => {
      const res = await inject({ url: '/v1/providers/nope/x/events/call', body: 'a=1', headers: form });
      expect(res.statusCode).toBe(401);
      for (const method of ['PUT', 'DELETE', 'PATCH']) {
        const r = await inject({ method, url: '/v1/providers/mango/mango-1/events/call' });
        expect([404, 405]).toContain(r.statusCode);
      }
      expect(published).toEqual([]);
    });
  });
});
