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
