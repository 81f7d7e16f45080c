import { eventually, TestSystem } from './support/system';

/**
 * The console's expiry monitor records one `credential.expiring` audit entry per credential entering its warning
 * window (PEER_CREDENTIAL_WARN_DAYS, default 14), once, however many sweeps see it. It sweeps at start and every
 * peerAuth.expirySweepSeconds; here a console (re)start is the sweep.
 */
describe('credential expiry audit', () => {
  const sys = new TestSystem('credential-expiry');

  beforeAll(() => sys.start(['gateway']));
  afterAll(() => sys.destroy());

  const createPeer = async (id: string, expiresInDays: string) =>
    (
      await sys.cli(
        'peers',
        'create',
        '--id',
        id,
        '--name',
        id,
        '--kind',
        'website',
        '--scopes',
        'website.*',
        '--expires-in-days',
        expiresInDays,
      )
    ).credential as { credentialId: string };
  const expiring = (peerId: string) =>
    sys.sql<{ credential_id: string; actor: string; details: { expiresAt: string } }>(
      `SELECT credential_id, actor, details FROM peer_audit WHERE action = 'credential.expiring' AND peer_id = $1`,
      [peerId],
    );

  it('records one credential.expiring entry per credential in its warning window, once', async () => {
    const soon = await createPeer('expires-soon', '2');
    await createPeer('expires-later', '60');
    await sys.startApp('console');

    const first = await eventually(async () => {
      const rows = await expiring('expires-soon');
      return rows.length ? rows : null;
    });
    expect(first).toEqual([
      {
        credential_id: soon.credentialId,
        actor: 'system:expiry-monitor',
        details: { expiresAt: expect.any(String) },
      },
    ]);
    expect(await expiring('expires-later')).toEqual([]);
    expect(await expiring(sys.peerId)).toEqual([]); // 90 days: outside the window

    // A second sweep (console restart) that provably ran, since it recorded a newcomer: nothing new for the first.
    await sys.app('console').kill('SIGTERM');
    const newcomer = await createPeer('expires-soon-2', '3');
    await sys.startApp('console');
    const second = await eventually(async () => {
      const rows = await expiring('expires-soon-2');
      return rows.length ? rows : null;
    });
    expect(second!.map((r) => r.credential_id)).toEqual([newcomer.credentialId]);
    expect((await expiring('expires-soon')).map((r) => r.credential_id)).toEqual([soon.credentialId]);
  });
});
