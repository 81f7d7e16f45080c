import { ConfigError, loadConfig } from './load-config';
import { join } from 'node:path';

const dir = join(__dirname, '../../../config');
const base = { SWITCHBOARD_CONFIG_DIR: dir, ADMIN_TOKEN: 'x'.repeat(32) };

describe('loadConfig', () => {
  it('reads defaults and applies environment overrides', () => {
    const c = loadConfig({
      ...base,
      DATABASE_URL: 'postgres://u:p@db:5432/x',
      AMQP_RETRY_DELAYS_MS: '50,100',
      GATEWAY_PORT: '9000',
    });
    expect(c.database.url).toBe('postgres://u:p@db:5432/x');
    expect(c.amqp.retryDelaysMs).toEqual([50, 100]);
    expect(c.gateway.port).toBe(9000);
  });

  it('reads fractional credential policy values (tests use seconds-long windows)', () => {
    const c = loadConfig({ ...base, PEER_CREDENTIAL_OVERLAP_HOURS: '0.001', PEER_LOCKOUT_MAX_FAILURES: '5' });
    expect(c.peerAuth.credentialOverlapHours).toBe(0.001);
    expect(c.peerAuth.lockoutPeerMaxFailures).toBe(5);
    expect(() => loadConfig({ ...base, PEER_CREDENTIAL_OVERLAP_HOURS: 'soon' })).toThrow(
      /PEER_CREDENTIAL_OVERLAP_HOURS/,
    );
  });

  it('fails fast, naming every bad setting', () => {
    let error: unknown;
    try {
      loadConfig({ ...base, DATABASE_URL: 'mysql://x', GATEWAY_PORT: 'eighty', ADMIN_TOKEN: 'short' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const msg = (error as Error).message;
    expect(msg).toContain('DATABASE_URL');
    expect(msg).toContain('GATEWAY_PORT');
    expect(msg).toContain('ADMIN_TOKEN');
  });
});

describe('loadConfig per concern', () => {
  it('validates only the sections a process uses', () => {
    const env = { SWITCHBOARD_CONFIG_DIR: dir, ADMIN_TOKEN: 'short' };
    expect(() => loadConfig(env, ['amqp', 'gateway'])).not.toThrow();
    expect(() => loadConfig(env, ['console'])).toThrow(/ADMIN_TOKEN/);
  });
});

describe('loadConfig: HTTP limits', () => {
  it('reads the timeouts and the per-source connection limit from the environment', () => {
    const c = loadConfig({
      ...base,
      HTTP_HEADERS_TIMEOUT_MS: '2000',
      HTTP_REQUEST_TIMEOUT_MS: '4000',
      HTTP_MAX_CONNECTIONS_PER_SOURCE: '8',
      METRICS_HOST: '10.0.0.5',
    });
    expect(c.http).toMatchObject({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      maxConnectionsPerSource: 8,
      metricsHost: '10.0.0.5',
    });
  });

  it('refuses a head timeout longer than the request timeout, and values out of range', () => {
    expect(() =>
      loadConfig({ ...base, HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' }, ['http']),
    ).toThrow(/http.headersTimeoutMs \(5000\) must not exceed http.requestTimeoutMs/);
    expect(() => loadConfig({ ...base, HTTP_IDLE_TIMEOUT_MS: '5' }, ['http'])).toThrow(/http.idleTimeoutMs/);
  });
});
