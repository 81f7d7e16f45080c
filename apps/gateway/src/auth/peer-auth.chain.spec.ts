import { BasicStrategy } from 'passport-http';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { basicCredentials, bearerToken } from './peer-auth.chain';
import type { PeerRequest } from './strategies';

/**
 * The chain reads credentials itself instead of running passport per request; these tables hold it to what the
 * passport libraries read from the same requests (the token or user/password handed to verify, or nothing).
 */
type Shape = { authorization?: string; body?: unknown; query?: unknown };

const requestOf = (s: Shape) =>
  ({
    headers: s.authorization === undefined ? {} : { authorization: s.authorization },
    body: s.body,
    query: s.query,
  }) as unknown as PeerRequest;

/** What a passport strategy hands its verify callback for this request, or null when it fails before. */
function passportReads(strategy: 'bearer' | 'basic', s: Shape): unknown {
  let read: unknown = null;
  const verify = (...args: unknown[]) => {
    read = args.slice(0, -1);
    (args[args.length - 1] as (e: null, u: false) => void)(null, false);
  };
  const impl =
    strategy === 'bearer'
      ? new BearerStrategy((token: string, done: never) => verify(token, done))
      : new BasicStrategy((user: string, password: string, done: never) => verify(user, password, done));
  Object.assign(impl, { fail: () => undefined, error: () => undefined, success: () => undefined });
  (impl as unknown as { authenticate(req: unknown): void }).authenticate(requestOf(s));
  return read;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

const CASES: Shape[] = [
  {},
  { authorization: 'Bearer abc.def' },
  { authorization: 'bearer abc' },
  { authorization: 'BEARER  abc' },
  { authorization: 'Bearer' },
  { authorization: 'Bearer a b' },
  { authorization: 'Token abc' },
  { authorization: '' },
  { authorization: 'Bearer abc', body: { access_token: 'def' } },
  { body: { access_token: 'def' } },
  { body: { access_token: '' } },
  { query: { access_token: 'q' } },
  { body: { access_token: 'b' }, query: { access_token: 'q' } },
  { authorization: `Basic ${b64('peer-1:sb_secret')}` },
  { authorization: `basic ${b64('peer-1:sb_secret')}` },
  { authorization: `XBasicY ${b64('peer-1:sb_secret')}` },
  { authorization: `Basic ${b64('peer-1:a:b')}` },
  { authorization: `Basic ${b64('peer-1:')}` },
  { authorization: `Basic ${b64(':secret')}` },
  { authorization: `Basic ${b64('nocolon')}` },
  { authorization: 'Basic' },
  { authorization: 'Basic !!!notbase64' },
  { authorization: `Basic ${b64('peer-1:secret')} extra` },
  { authorization: `Basic ${b64('peer-1:secret')}`, body: { access_token: 'x' } },
];

describe('PeerAuthChain reads credentials as the passport libraries do', () => {
  it.each(CASES)('bearer %j', (s) => {
    const viaPassport = passportReads('bearer', s) as [string] | null;
    expect(bearerToken(requestOf(s))).toEqual(viaPassport ? viaPassport[0] : undefined);
  });

  it.each(CASES)('basic %j', (s) => {
    const viaPassport = passportReads('basic', s) as [string, string] | null;
    expect(basicCredentials(requestOf(s))).toEqual(
      viaPassport ? { user: viaPassport[0], password: viaPassport[1] } : undefined,
    );
  });
});
