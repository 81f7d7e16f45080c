// class-transformer's @Type reads design:type through Reflect.getMetadata; Nest loaded this polyfill for us before.
import 'reflect-metadata';

/**
 * Several property decorators as one, applied in the order given (as Nest's applyDecorators applies them, so
 * class-validator records its rules, and reports failures, in the same order). Our own rather than Nest's: the
 * contracts load without @nestjs/common and rxjs, which cost each 1C parse worker thread ~8 MB of RSS.
 */
export function composeDecorators(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => {
    for (const decorate of decorators) decorate(target, key);
  };
}

/** Decimal places of a number as JavaScript prints it, exponent form included (5e-324 has 324). */
export function decimalPlaces(n: number): number {
  // Whole numbers below 1e21 print without a fraction or exponent: most amounts and every quantity.
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return 0;
  // Indexes rather than split(): this runs for every price and quantity of a 100,000-offer 1C upload.
  const s = String(n);
  const e = s.indexOf('e');
  const dot = s.indexOf('.');
  const fraction = dot < 0 ? 0 : (e < 0 ? s.length : e) - dot - 1;
  return Math.max(0, fraction - (e < 0 ? 0 : Number(s.slice(e + 1))));
}
