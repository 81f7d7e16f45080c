import { Roles } from '../operators/operator';
import { Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { ContractViolation } from '@switchboard/contracts';
import { DataSource } from 'typeorm';
import { OperatorGuard } from '../operators/operator.guard';
import { AlertEvaluator } from './alert-evaluator';
import { AlertListFilter, AlertStore } from './alert-store';

export const DEFAULT_ALERT_LIMIT = 100;
export const MAX_ALERT_LIMIT = 1000;

const invalid = (field: string, rule: string, message: string) =>
  new ContractViolation([{ field, rule, message }], `Invalid query parameter ${field}.`);

/** ?status=firing|resolved&rule=&limit= as the HTTP layer hands it over (a repeated parameter is an array). */
export function parseAlertListQuery(q: Record<string, unknown>): AlertListFilter {
  const one = (field: string): string | undefined => {
    const v = q[field];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw invalid(field, 'single', `${field} must be given once`);
    return v;
  };
  const status = one('status');
  if (status !== undefined && status !== 'firing' && status !== 'resolved')
    throw invalid('status', 'enum', 'status must be firing or resolved');
  const rawLimit = one('limit');
  const limit = rawLimit === undefined ? DEFAULT_ALERT_LIMIT : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ALERT_LIMIT)
    throw invalid('limit', 'range', `limit must be an integer from 1 to ${MAX_ALERT_LIMIT}`);
  return { status, rule: one('rule'), limit };
}

/** Alerts raised by the rules (apps/console/src/alerts), newest first; and a round on demand. */
@Controller('v1/admin/alerts')
@UseGuards(OperatorGuard)
@Roles('admin', 'supervisor', 'auditor')
export class AlertsController {
  constructor(
    private readonly ds: DataSource,
    private readonly evaluator: AlertEvaluator,
  ) {}

  @Get()
  async list(@Query() query: Record<string, unknown>) {
    const filter = parseAlertListQuery(query);
    return { items: await AlertStore.list((sql, params) => this.ds.query(sql, params), filter) };
  }

  /** Runs one evaluation round now (after any in progress) and returns what changed. */
  @Post('evaluate')
  @HttpCode(200)
  evaluate() {
    return this.evaluator.evaluate();
  }
}
