import {
  outboundEndpointPausedConditions,
  Alert,
  AlertCondition,
  AUTH_FAILURE_CODES,
  authFailureConditions,
  credentialExpiringConditions,
  deadLetterConditions,
  errorRateConditions,
  peerSilentConditions,
  credentialRotatedConditions,
  overdueTaskConditions,
  adminTokenUseConditions,
  unassignedLeadConditions,
  planTransitions,
  ruleEnabled,
  RuleSettings,
} from './alert-rules';

const S: RuleSettings = {
  authFailureThreshold: 20,
  authFailureWindowMinutes: 5,
  errorRatePercent: 50,
  errorRateWindowMinutes: 5,
  errorRateMinCalls: 20,
  deadLetterDepth: 0,
  credentialExpiringDays: 7,
  peerSilentHours: 6,
  credentialRotatedMinutes: 60,
  unassignedLeadMinutes: 5,
  overdueTaskThreshold: 1,
  outboundEndpointPaused: true,
  adminTokenUseMinutes: 60,
};
const NOW = new Date('2025-06-01T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const days = (d: number) => new Date(NOW.getTime() + d * 86_400_000);

describe('ruleEnabled', () => {
  it('0 (or -1 for dead letters) switches a rule off', () => {
    const off: RuleSettings = {
      ...S,
      authFailureThreshold: 0,
      errorRatePercent: 0,
      deadLetterDepth: -1,
      credentialExpiringDays: 0,
      peerSilentHours: 0,
      credentialRotatedMinutes: 0,
      unassignedLeadMinutes: 0,
      overdueTaskThreshold: 0,
      outboundEndpointPaused: false,
      adminTokenUseMinutes: 0,
    };
    for (const r of [
      'authFailures',
      'errorRate',
      'deadLetters',
      'credentialExpiring',
      'peerSilent',
      'credentialRotated',
      'unassignedLeads',
      'overdueTasks',
      'outboundEndpointPaused',
      'adminTokenUsed',
    ] as const) {
      expect([r, ruleEnabled(r, S)]).toEqual([r, true]);
      expect([r, ruleEnabled(r, off)]).toEqual([r, false]);
    }
  });
});

describe('AUTH_FAILURE_CODES', () => {
  it('holds the peer-side AUTH_ codes, not AUTH_UNAVAILABLE (ours)', () => {
    expect(AUTH_FAILURE_CODES).toEqual(
      expect.arrayContaining(['AUTH_INVALID', 'AUTH_LOCKED', 'AUTH_MISSING']),
    );
    expect(AUTH_FAILURE_CODES).not.toContain('AUTH_UNAVAILABLE');
    expect(AUTH_FAILURE_CODES.every((c) => c.startsWith('AUTH_'))).toBe(true);
  });
});

describe('authFailureConditions', () => {
  const fact = (peerId: string, failures: number) => ({
    peerId,
    failures,
    codes: ['AUTH_LOCKED', 'AUTH_INVALID'],
    lastAt: NOW,
  });

  it('fires at the threshold, per peer, with the subject = peer id', () => {
    const c = authFailureConditions([fact('a', 19), fact('b', 20), fact('c', 35)], S);
    expect(c.map((x) => [x.rule, x.subject])).toEqual([
      ['authFailures', 'b'],
      ['authFailures', 'c'],
    ]);
    expect(c[0].summary).toBe('20 failed authentications of peer b in the last 5 min (threshold 20)');
    expect(c[0].details).toMatchObject({
      failures: 20,
      codes: ['AUTH_INVALID', 'AUTH_LOCKED'],
      windowMinutes: 5,
    });
  });

  it('is silent when disabled', () => {
    expect(authFailureConditions([fact('b', 1000)], { ...S, authFailureThreshold: 0 })).toEqual([]);
  });
});

describe('errorRateConditions', () => {
  it('needs both the minimum number of calls and the share', () => {
    const c = errorRateConditions(
      [
        { peerId: 'few', total: 19, notAccepted: 19 },
        { peerId: 'half', total: 20, notAccepted: 10 },
        { peerId: 'below', total: 100, notAccepted: 49 },
        { peerId: 'all', total: 40, notAccepted: 40 },
      ],
      S,
    );
    expect(c.map((x) => x.subject)).toEqual(['half', 'all']);
    expect(c[0].details).toMatchObject({ total: 20, notAccepted: 10, percent: 50 });
    expect(c[0].summary).toContain('50%');
  });

  it('takes fractional percentages', () => {
    const c = errorRateConditions([{ peerId: 'p', total: 1000, notAccepted: 26 }], {
      ...S,
      errorRatePercent: 2.5,
    });
    expect(c).toHaveLength(1);
    expect(
      errorRateConditions([{ peerId: 'p', total: 1000, notAccepted: 24 }], { ...S, errorRatePercent: 2.5 }),
    ).toEqual([]);
  });
});

describe('deadLetterConditions', () => {
  const facts = [
    { connector: 'website-connector', queue: 'ns.website-connector.dlq', depth: 0 },
    { connector: 'telephony-connector', queue: 'ns.telephony-connector.dlq', depth: 3 },
  ];
  it('fires above the depth, subject = connector', () => {
    expect(deadLetterConditions(facts, S).map((c) => c.subject)).toEqual(['telephony-connector']);
    expect(deadLetterConditions(facts, { ...S, deadLetterDepth: 3 })).toEqual([]);
    expect(deadLetterConditions(facts, { ...S, deadLetterDepth: -1 })).toEqual([]);
  });
});

describe('credentialExpiringConditions', () => {
  it('fires for credentials expiring within the days, subject = credential id', () => {
    const c = credentialExpiringConditions(
      [
        { credentialId: 'soon', peerId: 'p', expiresAt: days(2) },
        { credentialId: 'edge', peerId: 'p', expiresAt: days(7) },
        { credentialId: 'later', peerId: 'p', expiresAt: days(8) },
        { credentialId: 'gone', peerId: 'p', expiresAt: days(-1) },
      ],
      S,
      NOW,
    );
    expect(c.map((x) => x.subject)).toEqual(['soon', 'edge']);
    expect(c[0].details).toMatchObject({ peerId: 'p', credentialId: 'soon' });
  });
});

describe('peerSilentConditions', () => {
  it('fires for peers older than the silence with no accepted call within it', () => {
    const c = peerSilentConditions(
      [
        { peerId: 'quiet', createdAt: hoursAgo(100), lastAcceptedAt: null },
        { peerId: 'stale', createdAt: hoursAgo(100), lastAcceptedAt: hoursAgo(7) },
        { peerId: 'busy', createdAt: hoursAgo(100), lastAcceptedAt: hoursAgo(1) },
        { peerId: 'new', createdAt: hoursAgo(2), lastAcceptedAt: null },
      ],
      S,
      NOW,
    );
    expect(c.map((x) => x.subject)).toEqual(['quiet', 'stale']);
    expect(
      peerSilentConditions(
        [{ peerId: 'q', createdAt: hoursAgo(100), lastAcceptedAt: null }],
        { ...S, peerSilentHours: 0 },
        NOW,
      ),
    ).toEqual([]);
  });
});

describe('planTransitions', () => {
  const cond = (rule: AlertCondition['rule'], subject: string): AlertCondition => ({
    rule,
    subject,
    summary: `${rule} ${subject}`,
    details: {},
  });
  const alert = (rule: string, subject: string): Alert => ({
    id: `${rule}-${subject}`,
    rule,
    subject,
    status: 'firing',
    summary: '',
    details: {},
    firedAt: NOW.toISOString(),
    lastSeenAt: NOW.toISOString(),
    resolvedAt: null,
    firedNotifiedAt: null,
    resolvedNotifiedAt: null,
  });
  const ALL = new Set(['authFailures', 'errorRate', 'deadLetters', 'credentialExpiring', 'peerSilent']);

  it('new conditions fire, held ones are kept, cleared ones resolve', () => {
    const plan = planTransitions(
      [cond('authFailures', 'new'), cond('authFailures', 'held')],
      [alert('authFailures', 'held'), alert('authFailures', 'cleared')],
      ALL,
    );
    expect(plan.fire.map((c) => c.subject)).toEqual(['new']);
    expect(plan.keep.map((k) => [k.alert.id, k.condition.subject])).toEqual([['authFailures-held', 'held']]);
    expect(plan.resolve.map((a) => a.id)).toEqual(['authFailures-cleared']);
  });

  it('nothing changes when the same conditions hold again', () => {
    const plan = planTransitions([cond('errorRate', 'p')], [alert('errorRate', 'p')], ALL);
    expect(plan.fire).toEqual([]);
    expect(plan.resolve).toEqual([]);
    expect(plan.keep).toHaveLength(1);
  });

  it('the same subject under two rules is two conditions; duplicates count once', () => {
    const plan = planTransitions(
      [cond('authFailures', 'p'), cond('errorRate', 'p'), cond('errorRate', 'p')],
      [alert('authFailures', 'p')],
      ALL,
    );
    expect(plan.fire.map((c) => [c.rule, c.subject])).toEqual([['errorRate', 'p']]);
    expect(plan.keep).toHaveLength(1);
  });

  it('a rule that was not evaluated (broker unreachable) resolves nothing', () => {
    const without = new Set([...ALL].filter((r) => r !== 'deadLetters'));
    const plan = planTransitions(
      [],
      [alert('deadLetters', 'website-connector'), alert('peerSilent', 'x')],
      without,
    );
    expect(plan.resolve.map((a) => a.rule)).toEqual(['peerSilent']);
  });
});

describe('credentialRotated', () => {
  it('one alert per peer that rotated its own credential recently, naming the newest credential', () => {
    const conditions = credentialRotatedConditions(
      [{ peerId: 'shop', rotations: 2, credentialIds: ['new1', 'old1'], lastAt: NOW }],
      S,
    );
    expect(conditions).toEqual([
      expect.objectContaining({
        rule: 'credentialRotated',
        subject: 'shop',
        summary: expect.stringContaining('rotated its credential 2 times in the last 60 min (newest new1)'),
      }),
    ]);
    expect(credentialRotatedConditions([], S)).toEqual([]);
  });
});

describe('lead and task rules', () => {
  it('fires one unassignedLeads alert while new leads wait without a manager', () => {
    expect(unassignedLeadConditions({ count: 0, oldestAt: NOW }, S)).toEqual([]);
    expect(unassignedLeadConditions({ count: 3, oldestAt: hoursAgo(1) }, S)).toEqual([
      expect.objectContaining({
        rule: 'unassignedLeads',
        subject: 'leads',
        summary: '3 new leads unassigned for over 5 minutes',
      }),
    ]);
    expect(unassignedLeadConditions({ count: 3, oldestAt: NOW }, { ...S, unassignedLeadMinutes: 0 })).toEqual(
      [],
    );
  });

  it('fires overdueTasks from the threshold on', () => {
    expect(
      overdueTaskConditions({ count: 1, oldestDueAt: hoursAgo(2) }, { ...S, overdueTaskThreshold: 2 }),
    ).toEqual([]);
    expect(
      overdueTaskConditions({ count: 2, oldestDueAt: hoursAgo(2) }, { ...S, overdueTaskThreshold: 2 }),
    ).toEqual([
      expect.objectContaining({ rule: 'overdueTasks', subject: 'tasks', summary: '2 open tasks past due' }),
    ]);
  });
});

describe('outboundEndpointPaused', () => {
  it('fires one alert per paused endpoint, none when switched off', () => {
    const fact = {
      peerId: 'shop',
      url: 'https://shop.example/hooks',
      failingSince: hoursAgo(25),
      pausedAt: hoursAgo(1),
      pending: 3,
    };
    expect(outboundEndpointPausedConditions([fact], S)).toEqual([
      expect.objectContaining({
        rule: 'outboundEndpointPaused',
        subject: 'shop',
        details: expect.objectContaining({ pending: 3 }),
      }),
    ]);
    expect(outboundEndpointPausedConditions([fact], { ...S, outboundEndpointPaused: false })).toEqual([]);
  });
});

describe('adminTokenUsed', () => {
  it('fires while the break-glass ADMIN_TOKEN was used within the window, and not otherwise', () => {
    const fact = { count: 2, lastAt: hoursAgo(0.1), clientIps: ['10.0.0.1'] };
    expect(adminTokenUseConditions(fact, S)).toEqual([
      expect.objectContaining({
        rule: 'adminTokenUsed',
        subject: 'ADMIN_TOKEN',
        details: expect.objectContaining({ count: 2 }),
      }),
    ]);
    expect(adminTokenUseConditions({ ...fact, count: 0 }, S)).toEqual([]);
    expect(adminTokenUseConditions(fact, { ...S, adminTokenUseMinutes: 0 })).toEqual([]);
  });
});
