import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AssignmentContext, AssignmentDecision, AssignmentRule, decideAssignment } from '../rules/assignment';
import { ManagersRepository } from '../repositories/managers.repository';

/**
 * Assigns new cards (leads from forms and calls, contacts from orders) by the ordered rules (rules/assignment):
 * the stored rules, else the configured ones, then the built-in round robin. Several cards at once, in order, as
 * if one by one: rules, managers and loads read once, one round-robin turn per card, each assignment counted
 * into the loads the next one sees. The one place intake of any channel decides a responsible manager.
 */
@Injectable()
export class CardAssigner {
  constructor(private readonly managers: ManagersRepository) {}

  /**
   * One decision per context, in order. `turns`: the cards' round-robin turns when the caller drew them already
   * (a new contact's, from its insert), else one each is drawn here.
   */
  async assignMany(
    em: EntityManager,
    contexts: AssignmentContext[],
    configuredRules: readonly AssignmentRule[] = [],
    turns?: number[],
  ): Promise<AssignmentDecision[]> {
    if (contexts.length === 0) return [];
    const stored = await this.managers.rules(em);
    const rules = stored.length ? stored : configuredRules;
    const managers = await this.managers.list(em);
    // Capacity and least-loaded decisions read the open loads: those are read under the assignment lock, so
    // two concurrent transactions cannot both take a manager's last free slot. Round robin alone needs no lock
    // (the turn is a sequence value), so intake without limits does not queue on it.
    const needsLoads =
      managers.some((m) => m.capacity !== null) || rules.some((r) => r.strategy === 'leastLoaded');
    if (needsLoads) await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('crm:assignment', 0))`);
    const loads = needsLoads ? await this.managers.loads(em) : new Map<string, number>();
    const turnOf = turns ?? (await this.managers.nextTurns(em, contexts.length));
    return contexts.map((ctx, k) => {
      const decision = decideAssignment(rules, managers, loads, ctx, turnOf[k]);
      if (decision.managerId) loads.set(decision.managerId, (loads.get(decision.managerId) ?? 0) + 1);
      return decision;
    });
  }
}
