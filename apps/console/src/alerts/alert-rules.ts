import type { AlertsConfig } from '@switchboard/config';
import { ErrorCode } from '@switchboard/contracts';

/**
 * Alert rules as pure functions: facts (gathered by one cheap, time-bounded query per rule; see
 * alert-facts.ts) in, the conditions that hold right now out. A condition is identified by (rule, subject);
 * while it holds, exactly one alert is firing for it.
 */
export const ALERT_RULES = [
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
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

export interface AlertCondition {
  rule: AlertRule;
  /** What the alert is about: a peer id, a connector name or a credential id. */
  subject: string;
  summary: string;
  details: Record<string, unknown>;
}

/**
 * Authentication failures the peer (or whoever claims to be it) is responsible for. AUTH_UNAVAILABLE is ours
 * (the directory could not be read), so it counts towards the error rate, not here.
 */
export const AUTH_FAILURE_CODES: string[] = Object.values(ErrorCode).filter(
  (c) => c.startsWith('AUTH_') && c !== ErrorCode.AUTH_UNAVAILABLE,
);

export type RuleSettings = Pick<
  AlertsConfig,
  | 'authFailureThreshold'
  | 'authFailureWindowMinutes'
  | 'errorRatePercent'
  | 'errorRateWindowMinutes'
  | 'errorRateMinCalls'
  | 'deadLetterDepth'
  | 'credentialExpiringDays'
  | 'peerSilentHours'
  | 'credentialRotatedMinutes'
  | 'unassignedLeadMinutes'
  | 'overdueTaskThreshold'
  | 'outboundEndpointPaused'
  | 'adminTokenUseMinutes'
>;

/** Rules switched off in config (0, or -1 for deadLetterDepth): evaluated as "nothing holds". */
export function ruleEnabled(rule: AlertRule, s: RuleSettings): boolean {
  switch (rule) {
    case 'authFailures':
      return s.authFailureThreshold > 0;
    case 'errorRate':
      return s.errorRatePercent > 0;
    case 'deadLetters':
      return s.deadLetterDepth >= 0;
    case 'credentialExpiring':
      return s.credentialExpiringDays > 0;
    case 'peerSilent':
      return s.peerSilentHours > 0;
    case 'credentialRotated':
      return s.credentialRotatedMinutes > 0;
    case 'unassignedLeads':
      return s.unassignedLeadMinutes > 0;
    case 'overdueTasks':
      return s.overdueTaskThreshold > 0;
    case 'outboundEndpointPaused':
      return s.outboundEndpointPaused;
    case 'adminTokenUsed':
      return s.adminTokenUseMinutes > 0;
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const fmt = (n: number) => String(Math.round(n * 100) / 100);

export interface AuthFailureFact {
  peerId: string;
  failures: number;
  /** Distinct error codes seen in the window. */
  codes: string[];
  lastAt: Date;
}

export function authFailureConditions(facts: AuthFailureFact[], s: RuleSettings): AlertCondition[] {
  if (!ruleEnabled('authFailures', s)) return [];
  return facts
    .filter((f) => f.failures >= s.authFailureThreshold)
    .map((f) => ({
      rule: 'authFailures' as const,
      subject: f.peerId,
      summary: `${plural(f.failures, 'failed authentication')} of peer ${f.peerId} in the last ${fmt(s.authFailureWindowMinutes)} min (threshold ${s.authFailureThreshold})`,
      details: {
        peerId: f.peerId,
        failures: f.failures,
        codes: [...f.codes].sort(),
        lastAt: f.lastAt.toISOString(),
        windowMinutes: s.authFailureWindowMinutes,
        threshold: s.authFailureThreshold,
      },
    }));
}

export interface ErrorRateFact {
  peerId: string;
  /** Calls in the window, authentication failures excluded (those belong to authFailures). */
  total: number;
  notAccepted: number;
}

export function errorRateConditions(facts: ErrorRateFact[], s: RuleSettings): AlertCondition[] {
  if (!ruleEnabled('errorRate', s)) return [];
  return facts
    .filter((f) => f.total >= s.errorRateMinCalls && f.notAccepted * 100 >= s.errorRatePercent * f.total)
    .map((f) => {
      const percent = (f.notAccepted * 100) / f.total;
      return {
        rule: 'errorRate' as const,
        subject: f.peerId,
        summary: `${fmt(percent)}% of peer ${f.peerId}'s calls failed in the last ${fmt(s.errorRateWindowMinutes)} min (${f.notAccepted} of ${f.total}; threshold ${fmt(s.errorRatePercent)}%)`,
        details: {
          peerId: f.peerId,
          total: f.total,
          notAccepted: f.notAccepted,
          percent: Math.round(percent * 100) / 100,
          windowMinutes: s.errorRateWindowMinutes,
          thresholdPercent: s.errorRatePercent,
        },
      };
    });
}

export interface DeadLetterFact {
  connector: string;
  queue: string;
  depth: number;
}

export function deadLetterConditions(facts: DeadLetterFact[], s: RuleSettings): AlertCondition[] {
  if (!ruleEnabled('deadLetters', s)) return [];
  return facts
    .filter((f) => f.depth > s.deadLetterDepth)
    .map((f) => ({
      rule: 'deadLetters' as const,
      subject: f.connector,
      summary: `${plural(f.depth, 'message')} dead-lettered for ${f.connector} (${f.queue}; threshold ${s.deadLetterDepth})`,
      details: { connector: f.connector, queue: f.queue, depth: f.depth, threshold: s.deadLetterDepth },
    }));
}

export interface ExpiringCredentialFact {
  credentialId: string;
  peerId: string;
  expiresAt: Date;
}

export function credentialExpiringConditions(
  facts: ExpiringCredentialFact[],
  s: RuleSettings,
  now: Date,
): AlertCondition[] {
  if (!ruleEnabled('credentialExpiring', s)) return [];
  const horizon = now.getTime() + s.credentialExpiringDays * 86_400_000;
  return facts
    .filter((f) => f.expiresAt.getTime() > now.getTime() && f.expiresAt.getTime() <= horizon)
    .map((f) => ({
      rule: 'credentialExpiring' as const,
      subject: f.credentialId,
      summary: `credential ${f.credentialId} of peer ${f.peerId} expires at ${f.expiresAt.toISOString()}; issue a new one`,
      details: {
        peerId: f.peerId,
        credentialId: f.credentialId,
        expiresAt: f.expiresAt.toISOString(),
        withinDays: s.credentialExpiringDays,
      },
    }));
}

export interface SilentPeerFact {
  peerId: string;
  createdAt: Date;
  /** The peer's last accepted inbound call within the silence window; null when there was none. */
  lastAcceptedAt: Date | null;
}

export function peerSilentConditions(facts: SilentPeerFact[], s: RuleSettings, now: Date): AlertCondition[] {
  if (!ruleEnabled('peerSilent', s)) return [];
  const cutoff = now.getTime() - s.peerSilentHours * 3_600_000;
  return facts
    .filter(
      (f) =>
        f.createdAt.getTime() < cutoff && (f.lastAcceptedAt === null || f.lastAcceptedAt.getTime() < cutoff),
    )
    .map((f) => ({
      rule: 'peerSilent' as const,
      subject: f.peerId,
      summary: `peer ${f.peerId} sent nothing accepted for ${fmt(s.peerSilentHours)} h`,
      details: { peerId: f.peerId, silentHours: s.peerSilentHours, since: new Date(cutoff).toISOString() },
    }));
}

export interface RotationFact {
  peerId: string;
  rotations: number;
  /** Credentials issued by the peer's own rotations in the window, newest first. */
  credentialIds: string[];
  lastAt: Date;
}

/**
 * A peer rotated its own credential (POST /v1/credentials/rotate): rare and legitimate, or someone holding a
 * leaked credential taking over. Operators hear of each, while it is recent.
 */
export function credentialRotatedConditions(facts: RotationFact[], s: RuleSettings): AlertCondition[] {
  if (!ruleEnabled('credentialRotated', s)) return [];
  return facts
    .filter((f) => f.rotations > 0)
    .map((f) => ({
      rule: 'credentialRotated' as const,
      subject: f.peerId,
      summary: `peer ${f.peerId} rotated its credential ${plural(f.rotations, 'time')} in the last ${fmt(s.credentialRotatedMinutes)} min (newest ${f.credentialIds[0]}); if it was not the peer, revoke with \`peers rotate ${f.peerId} --revoke-old\``,
      details: {
        peerId: f.peerId,
        rotations: f.rotations,
        credentialIds: f.credentialIds,
        lastAt: f.lastAt.toISOString(),
      },
    }));
}

/** A stored alert, as the console lists it and the sinks receive it. */
export interface Alert {
  id: string;
  rule: string;
  subject: string;
  status: 'firing' | 'resolved';
  summary: string;
  details: Record<string, unknown>;
  firedAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
  firedNotifiedAt: string | null;
  resolvedNotifiedAt: string | null;
}

export const conditionKey = (c: { rule: string; subject: string }) => `${c.rule}\u0000${c.subject}`;

export interface TransitionPlan {
  /** Conditions with no firing alert yet: fire. */
  fire: AlertCondition[];
  /** Firing alerts whose condition still holds: refresh last_seen_at (and the current figures). */
  keep: Array<{ alert: Alert; condition: AlertCondition }>;
  /** Firing alerts of evaluated rules whose condition is gone: resolve. */
  resolve: Alert[];
}

/**
 * What changes this round. Only rules in `evaluated` may resolve anything: a rule that could not be evaluated
 * (the broker was unreachable) leaves its firing alerts as they are.
 */
export function planTransitions(
  current: AlertCondition[],
  firing: Alert[],
  evaluated: ReadonlySet<string>,
): TransitionPlan {
  const byKey = new Map(firing.map((a) => [conditionKey(a), a]));
  const seen = new Set<string>();
  const plan: TransitionPlan = { fire: [], keep: [], resolve: [] };
  for (const c of current) {
    const key = conditionKey(c);
    if (seen.has(key)) continue;
    seen.add(key);
    const alert = byKey.get(key);
    if (alert) plan.keep.push({ alert, condition: c });
    else plan.fire.push(c);
  }
  for (const a of firing) {
    if (evaluated.has(a.rule) && !seen.has(conditionKey(a))) plan.resolve.push(a);
  }
  return plan;
}

export interface UnassignedLeadFact {
  count: number;
  oldestAt: Date;
}

/** New leads left without a manager (nobody was on duty): one alert while any waits too long. */
export function unassignedLeadConditions(fact: UnassignedLeadFact, s: RuleSettings): AlertCondition[] {
  if (!ruleEnabled('unassignedLeads', s) || fact.count === 0) return [];
  return [
    {
      rule: 'unassignedLeads',
      subject: 'leads',
      summary: `${plural(fact.count, 'new lead')} unassigned for over ${fmt(s.unassignedLeadMinutes)} minutes`,
      details: { count: fact.count, oldestAt: fact.oldestAt.toISOString(), minutes: s.unassignedLeadMinutes },
    },
  ];
}

export interface OverdueTaskFact {
  count: number;
  oldestDueAt: Date | null;
}

export function overdueTaskConditions(fact: OverdueTaskFact, s: RuleSettings): AlertCondition[] {
  if (!ruleEnabled('overdueTasks', s) || fact.count < s.overdueTaskThreshold) return [];
  return [
    {
      rule: 'overdueTasks',
      subject: 'tasks',
      summary: `${plural(fact.count, 'open task')} past due`,
      details: { count: fact.count, oldestDueAt: fact.oldestDueAt?.toISOString() ?? null },
    },
  ];
}

export interface PausedEndpointFact {
  peerId: string;
  url: string;
  failingSince: Date | null;
  pausedAt: Date | null;
  /** Deliveries waiting for it. */
  pending: number;
}

/** One alert per paused outbound endpoint (apps/outbound paused it after failing for a day); resolves on resume. */
export function outboundEndpointPausedConditions(
  facts: PausedEndpointFact[],
  s: RuleSettings,
): AlertCondition[] {
  if (!ruleEnabled('outboundEndpointPaused', s)) return [];
  return facts.map((f) => ({
    rule: 'outboundEndpointPaused' as const,
    subject: f.peerId,
    summary: `outbound webhooks to ${f.peerId} paused: failing since ${f.failingSince?.toISOString() ?? '?'}, ${plural(f.pending, 'delivery', 'deliveries')} waiting`,
    details: {
      url: f.url,
      failingSince: f.failingSince?.toISOString() ?? null,
      pausedAt: f.pausedAt?.toISOString() ?? null,
      pending: f.pending,
    },
  }));
}

export interface AdminTokenUseFact {
  count: number;
  lastAt: Date | null;
  clientIps: string[];
}

/** The shared ADMIN_TOKEN is break-glass: any console call made with it fires an alert (issue 17). */
export function adminTokenUseConditions(fact: AdminTokenUseFact, s: RuleSettings): AlertCondition[] {
  if (!ruleEnabled('adminTokenUsed', s) || fact.count === 0) return [];
  return [
    {
      rule: 'adminTokenUsed',
      subject: 'ADMIN_TOKEN',
      summary: `the shared ADMIN_TOKEN was used for ${plural(fact.count, 'console call')} in the last ${fmt(s.adminTokenUseMinutes)} minutes`,
      details: { count: fact.count, lastAt: fact.lastAt?.toISOString() ?? null, clientIps: fact.clientIps },
    },
  ];
}
