/**
 * Who gets a new card: ordered rules, each a match (source/peer, form, product group, order total, region by
 * phone prefix, working hours) and a strategy over its managers. Pure: the caller loads managers, their open
 * load and the round-robin turn, and records the deciding rule. Deterministic for the same inputs, so
 * concurrent intake stays fair when the caller serializes the turn (a sequence) and the loads (a lock).
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
/** Per weekday, "HH:MM-HH:MM" ranges in the owner's time zone; a day left out is a day off. */
export type WorkingHours = Partial<Record<Weekday, string[]>>;

export type AssignmentStrategy = 'sticky' | 'roundRobin' | 'leastLoaded' | 'fixed';
export const ASSIGNMENT_STRATEGIES: readonly AssignmentStrategy[] = [
  'sticky',
  'roundRobin',
  'leastLoaded',
  'fixed',
];

export interface ManagerProfile {
  id: string;
  active: boolean;
  /** Most open items (leads + deals) at once; null: no limit. */
  capacity: number | null;
  /** null: always on duty. */
  workingHours: WorkingHours | null;
  timeZone: string;
  /** Phone prefixes (E.164, e.g. "+7495") this manager serves; empty: any. */
  regions: string[];
  /** Sources (e.g. "website:shop-1", "phone call") this manager takes; empty: any. */
  sources: string[];
  productGroups: string[];
}

export interface RuleMatch {
  sources?: string[];
  peers?: string[];
  forms?: string[];
  productGroups?: string[];
  /** Order total at or above (the wholesale threshold). */
  minOrderTotal?: number;
  phonePrefixes?: string[];
  /** The rule applies only inside these hours (e.g. a night shift rule). */
  hours?: WorkingHours;
  timeZone?: string;
}

export interface AssignmentRule {
  name: string;
  match: RuleMatch;
  strategy: AssignmentStrategy;
  /** The rule's managers in order; empty: every manager. */
  managerIds: string[];
}

export interface AssignmentContext {
  source: string;
  peerId?: string | null;
  formId?: string | null;
  productGroups?: string[];
  orderTotal?: number | null;
  /** E.164 */
  phone?: string | null;
  /** The manager of the card this request attaches to (a known contact's responsible). */
  stickyManagerId?: string | null;
  now: Date;
}

export interface AssignmentDecision {
  managerId: string | null;
  /** The deciding rule's name; null when nobody could take it (the unassigned queue). */
  rule: string | null;
}

/** Used when no configured rule decides: round robin over everyone on duty. */
export const DEFAULT_RULE: AssignmentRule = {
  name: 'default',
  match: {},
  strategy: 'roundRobin',
  managerIds: [],
};

/** The round-robin pick: the turn-th of the managers in their fixed order (created_at, id). */
export function roundRobin<T>(inTurnOrder: readonly T[], turn: number): T | null {
  if (inTurnOrder.length === 0) return null;
  return inTurnOrder[((turn % inTurnOrder.length) + inTurnOrder.length) % inTurnOrder.length];
}

/**
 * roundRobin in SQL for set-based projectors: `turn` is an SQL expression (one nextval of
 * manager_assignment_seq per new card); the managers in turn are the active ones by (created_at, id).
 */
export const roundRobinSql = (turn: string): string =>
  `(SELECT ids[1 + ((${turn}) % cardinality(ids))::int]
      FROM (SELECT array_agg(id ORDER BY created_at, id) AS ids FROM managers WHERE active) rr_managers)`;

/** The least loaded manager (load / capacity), ties broken by their given order. */
export function leastLoaded(
  candidates: readonly ManagerProfile[],
  load: ReadonlyMap<string, number>,
): ManagerProfile | null {
  let best: ManagerProfile | null = null;
  let bestScore = Infinity;
  for (const m of candidates) {
    const l = load.get(m.id) ?? 0;
    const score = m.capacity ? l / m.capacity : l;
    if (score < bestScore) {
      best = m;
      bestScore = score;
    }
  }
  return best;
}

const WEEKDAYS: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Whether `now` falls within `hours` read in `timeZone` (IANA). */
export function withinHours(hours: WorkingHours, timeZone: string, now: Date): boolean {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const day = WEEKDAYS.find((d) => d === get('weekday').slice(0, 3).toLowerCase());
  if (!day) return false;
  const minute = Number(get('hour')) * 60 + Number(get('minute'));
  return (hours[day] ?? []).some((range) => {
    const m = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(range);
    if (!m) return false;
    const from = Number(m[1]) * 60 + Number(m[2]);
    const to = Number(m[3]) * 60 + Number(m[4]);
    return from <= to ? minute >= from && minute < to : minute >= from || minute < to; // overnight shift
  });
}

export function isValidWorkingHours(value: unknown): value is WorkingHours {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.entries(value).every(
    ([day, ranges]) =>
      (WEEKDAYS as string[]).includes(day) &&
      Array.isArray(ranges) &&
      ranges.every(
        (r) => typeof r === 'string' && /^([01]?\d|2[0-3]):[0-5]\d-([01]?\d|2[0-4]):[0-5]\d$/.test(r),
      ),
  );
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function onDuty(m: ManagerProfile, now: Date): boolean {
  return m.active && (!m.workingHours || withinHours(m.workingHours, m.timeZone, now));
}

const overlaps = (a: readonly string[], b: readonly string[]) => a.some((x) => b.includes(x));

export function ruleMatches(match: RuleMatch, ctx: AssignmentContext): boolean {
  if (match.sources?.length && !match.sources.includes(ctx.source)) return false;
  if (match.peers?.length && !(ctx.peerId && match.peers.includes(ctx.peerId))) return false;
  if (match.forms?.length && !(ctx.formId && match.forms.includes(ctx.formId))) return false;
  if (match.productGroups?.length && !overlaps(match.productGroups, ctx.productGroups ?? [])) return false;
  if (match.minOrderTotal !== undefined && !((ctx.orderTotal ?? -Infinity) >= match.minOrderTotal))
    return false;
  if (
    match.phonePrefixes?.length &&
    !(ctx.phone && match.phonePrefixes.some((p) => ctx.phone!.startsWith(p)))
  )
    return false;
  if (match.hours && !withinHours(match.hours, match.timeZone ?? 'UTC', ctx.now)) return false;
  return true;
}

/** Can this manager take this card now: on duty, below capacity, and serving its source/region/products. */
export function eligible(
  m: ManagerProfile,
  ctx: AssignmentContext,
  load: ReadonlyMap<string, number>,
): boolean {
  if (!onDuty(m, ctx.now)) return false;
  if (m.capacity !== null && (load.get(m.id) ?? 0) >= m.capacity) return false;
  if (m.sources.length && !m.sources.includes(ctx.source)) return false;
  if (m.regions.length && ctx.phone && !m.regions.some((p) => ctx.phone!.startsWith(p))) return false;
  if (m.productGroups.length && ctx.productGroups?.length && !overlaps(m.productGroups, ctx.productGroups))
    return false;
  return true;
}

/**
 * The first rule (in order, then DEFAULT_RULE) that matches and finds an eligible manager decides. `managers`
 * are in round-robin order (created_at, id); `turn` is this card's round-robin turn.
 */
export function decideAssignment(
  rules: readonly AssignmentRule[],
  managers: readonly ManagerProfile[],
  load: ReadonlyMap<string, number>,
  ctx: AssignmentContext,
  turn: number,
): AssignmentDecision {
  const byId = new Map(managers.map((m) => [m.id, m]));
  for (const rule of [...rules, DEFAULT_RULE]) {
    if (!ruleMatches(rule.match, ctx)) continue;
    const pool = rule.managerIds.length
      ? rule.managerIds.map((id) => byId.get(id)).filter((m): m is ManagerProfile => !!m)
      : [...managers];
    let chosen: ManagerProfile | null = null;
    switch (rule.strategy) {
      case 'sticky': {
        // The card's manager keeps it while active, whatever the load: the customer knows them.
        const own = ctx.stickyManagerId ? byId.get(ctx.stickyManagerId) : undefined;
        chosen =
          own && own.active && (!rule.managerIds.length || rule.managerIds.includes(own.id)) ? own : null;
        break;
      }
      case 'fixed':
        chosen = pool.find((m) => eligible(m, ctx, load)) ?? null;
        break;
      case 'roundRobin':
        chosen = roundRobin(
          pool.filter((m) => eligible(m, ctx, load)),
          turn,
        );
        break;
      case 'leastLoaded':
        chosen = leastLoaded(
          pool.filter((m) => eligible(m, ctx, load)),
          load,
        );
        break;
    }
    if (chosen) return { managerId: chosen.id, rule: rule.name };
  }
  return { managerId: null, rule: null };
}

/** Problems with a rule set (for PUT /v1/admin/assignment-rules and config), empty when valid. */
export function assignmentRuleProblems(rules: unknown): string[] {
  if (!Array.isArray(rules)) return ['rules must be an array'];
  const problems: string[] = [];
  const names = new Set<string>();
  rules.forEach((r: unknown, i) => {
    const at = `rules[${i}]`;
    if (typeof r !== 'object' || r === null) return problems.push(`${at} must be an object`);
    const rule = r as Record<string, unknown>;
    if (typeof rule.name !== 'string' || !rule.name.trim())
      problems.push(`${at}.name must be a non-empty string`);
    else if (names.has(rule.name)) problems.push(`${at}.name "${rule.name}" is used twice`);
    else names.add(rule.name);
    if (!ASSIGNMENT_STRATEGIES.includes(rule.strategy as AssignmentStrategy))
      problems.push(`${at}.strategy must be one of ${ASSIGNMENT_STRATEGIES.join(', ')}`);
    if (
      rule.managerIds !== undefined &&
      !(Array.isArray(rule.managerIds) && rule.managerIds.every((x) => typeof x === 'string'))
    )
      problems.push(`${at}.managerIds must be an array of manager ids`);
    const match = (rule.match ?? {}) as Record<string, unknown>;
    if (typeof match !== 'object' || Array.isArray(match))
      return problems.push(`${at}.match must be an object`);
    for (const key of Object.keys(match)) {
      const v = match[key];
      if (['sources', 'peers', 'forms', 'productGroups', 'phonePrefixes'].includes(key)) {
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
          problems.push(`${at}.match.${key} must be an array of strings`);
      } else if (key === 'minOrderTotal') {
        if (typeof v !== 'number' || !Number.isFinite(v))
          problems.push(`${at}.match.minOrderTotal must be a number`);
      } else if (key === 'hours') {
        if (!isValidWorkingHours(v))
          problems.push(`${at}.match.hours must map mon..sun to "HH:MM-HH:MM" ranges`);
      } else if (key === 'timeZone') {
        if (typeof v !== 'string' || !isValidTimeZone(v))
          problems.push(`${at}.match.timeZone is no IANA time zone`);
      } else problems.push(`${at}.match.${key} is not a known match field`);
    }
    return undefined;
  });
  return problems;
}
