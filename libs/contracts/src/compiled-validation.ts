// class-transformer exports its @Type metadata only from this file (typed in class-transformer-storage.d.ts).
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import {
  ARRAY_MAX_SIZE,
  ARRAY_MIN_SIZE,
  arrayMaxSize,
  arrayMinSize,
  getMetadataStorage,
  IS_ARRAY,
  IS_BOOLEAN,
  IS_INT,
  IS_NOT_EMPTY,
  IS_OBJECT,
  IS_STRING,
  isArray,
  isBoolean,
  isInt,
  isNotEmpty,
  isObject,
  isString,
  MAX,
  max,
  MAX_LENGTH,
  MIN,
  min,
  ValidationTypes,
} from 'class-validator';
import type { ValidationArguments } from 'class-validator';

/**
 * A checker compiled from the class-validator metadata of a contract, so the decorators on the DTOs stay the
 * single source of truth. It answers one question, "would validateSync accept this plain body?", and it calls
 * the very same constraint functions class-validator would (isString, maxLength, the custom money and
 * timestamp rules...), with the same conditional (IsOptional/ValidateIf), defined, whitelist, `each` and
 * nested semantics as class-validator 0.14's ValidationExecutor under validateContract's options. What it
 * skips is the per-call work around them: class-transformer's instance copy, metadata lookups and grouping,
 * and a ValidationError tree for every property even when nothing fails.
 *
 * It never produces errors: a body it refuses goes through class-validator, whose answer is authoritative
 * (so the problem details are class-validator's, byte for byte). A contract it cannot compile (async or
 * promise validation, a nested property without a class-transformer @Type) returns null and is always
 * checked by class-validator. validation.compiled.spec.ts runs both over the fuzz corpus and fixtures.
 */
export type CompiledCheck = (body: object) => boolean;

export interface CompiledContract {
  accepts: CompiledCheck;
  /**
   * The class and every nested class are pure data (no methods, accessors or field initializers), so an
   * accepted plain body is already what plainToInstance would make of it, but for the prototype: the caller
   * may use the body as is and skip the copy (half the cost of the fast path).
   */
  plainData: boolean;
}

/** A contract class; class-validator and class-transformer key their metadata by it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyClass = abstract new (...args: any[]) => object;
type Metadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];
type ValueCheck = (object: object, value: unknown) => boolean;

const storage = getMetadataStorage();
const compiledContracts = new Map<AnyClass, CompiledContract | null>();
const classChecks = new Map<AnyClass, CompiledCheck>();

class NotCompilable extends Error {}

const isCollection = (v: unknown): boolean => Array.isArray(v) || v instanceof Set || v instanceof Map;

/**
 * class-validator's own functions behind its built-in decorators of these names: each decorator's validate(value,
 * args) is exactly `fn(value, args.constraints[0])`, so calling the function skips the arguments object, the
 * validator loop and two closures per value (these few rules are most of a catalog fact's checks).
 */
const BUILT_IN: Record<string, (value: unknown, constraint: unknown) => boolean> = {
  [IS_STRING]: (v) => isString(v),
  [IS_NOT_EMPTY]: (v) => isNotEmpty(v),
  [IS_BOOLEAN]: (v) => isBoolean(v),
  [IS_INT]: (v) => isInt(v),
  [IS_ARRAY]: (v) => isArray(v),
  [IS_OBJECT]: (v) => isObject(v),
  [MIN]: (v, c) => min(v, c as number),
  [MAX]: (v, c) => max(v, c as number),
  [ARRAY_MIN_SIZE]: (v, c) => arrayMinSize(v, c as number),
  [ARRAY_MAX_SIZE]: (v, c) => arrayMaxSize(v, c as number),
};

function constraintCheck(meta: Metadata): ValueCheck {
  const constraints = storage.getTargetValidatorConstraints(meta.constraintCls);
  if (constraints.some((c) => c.async)) throw new NotCompilable('async constraint');
  const validators = constraints.map((c) => c.instance);
  const builtIn =
    meta.name !== undefined && Object.hasOwn(BUILT_IN, meta.name) ? BUILT_IN[meta.name] : undefined;
  if (builtIn && validators.length === 1) {
    const c0 = meta.constraints?.[0] as unknown;
    if (meta.each !== true) return (_object, value) => builtIn(value, c0);
    // `each` over a Set or a Map goes the general way below (never JSON-born).
    const general = constraintCheckGeneral(meta, validators);
    return (object, value) => {
      if (!Array.isArray(value)) return general(object, value);
      for (const item of value as unknown[]) if (!builtIn(item, c0)) return false;
      return true;
    };
  }
  return constraintCheckGeneral(meta, validators);
}

function constraintCheckGeneral(
  meta: Metadata,
  validators: Array<{ validate(value: unknown, args: ValidationArguments): unknown }>,
): ValueCheck {
  // One arguments object per constraint, refilled per call: constraints are synchronous and none keeps it,
  // and allocating it for every value was a fifth of a catalog fact's check.
  const args: ValidationArguments = {
    targetName: '',
    property: meta.propertyName,
    object: {},
    value: undefined,
    constraints: meta.constraints,
  };
  const each = meta.each === true;
  const check: ValueCheck = (object, value) => {
    args.targetName = object.constructor?.name;
    args.object = object;
    args.value = value;
    for (const v of validators) {
      if (each && isCollection(value)) {
        const items =
          value instanceof Map || value instanceof Set ? [...value.values()] : (value as unknown[]);
        for (const item of items) if (v.validate(item, args) !== true) return false;
      } else if (v.validate(value, args) !== true) return false;
    }
    return true;
  };
  const limit = meta.constraints?.[0] as unknown;
  if (meta.name === MAX_LENGTH && typeof limit === 'number') {
    // class-validator's MaxLength counts a surrogate pair or a presentation sequence as one character, so a
    // string no longer than `limit` code units is always accepted; only longer ones need the exact count. (No
    // contract names a constraint of its own after a built-in one.)
    const short = (v: unknown) => typeof v === 'string' && v.length <= limit;
    return each
      ? (object, value) => (Array.isArray(value) && value.every(short)) || check(object, value)
      : (object, value) => short(value) || check(object, value);
  }
  return check;
}

/** Classes met as @Type targets while compiling: their purity decides plainData as well. */
let nestedClasses: AnyClass[] = [];

function isPureData(cls: AnyClass): boolean {
  for (
    let proto = cls.prototype as object | null;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    if (Object.getOwnPropertyNames(proto).some((name) => name !== 'constructor')) return false;
  }
  const sample = new (cls as new () => object)();
  return Object.values(sample).every((v) => v === undefined);
}

function nestedCheck(target: AnyClass, propertyName: string): (value: unknown) => boolean {
  // class-transformer's @Type decides which class a nested plain object becomes before class-validator sees
  // it; without one the object stays a plain Object, which forbidUnknownValues refuses.
  const typeMeta = defaultMetadataStorage.findTypeMetadata(target, propertyName);
  if (!typeMeta) throw new NotCompilable(`no @Type on ${target.name}.${propertyName}`);
  const nestedClass = typeMeta.typeFunction() as AnyClass;
  nestedClasses.push(nestedClass);
  let nested: CompiledCheck | undefined;
  const checkNested = (value: unknown): boolean => {
    if (Array.isArray(value)) return value.every(checkNested);
    if (value instanceof Set || value instanceof Map) return false;
    if (!(value instanceof Object)) return false;
    nested ??= classChecks.get(nestedClass) ?? compileClass(nestedClass);
    return nested(value);
  };
  return checkNested;
}

function compileClass(cls: AnyClass): CompiledCheck {
  const metas = storage.getTargetValidationMetadatas(cls, undefined as unknown as string, false, false);
  // forbidUnknownValues: an object of a class without metadata is refused.
  if (!metas.length) return () => false;
  const grouped = storage.groupByPropertyName(metas);
  const allowed = new Set(Object.keys(grouped).filter((p) => grouped[p].length > 0));
  const properties = Object.entries(grouped).map(([propertyName, list]) => {
    const conditions: Array<(o: object, v: unknown) => boolean> = [];
    const checks: ValueCheck[] = [];
    const defined: ValueCheck[] = [];
    let nested: ((value: unknown) => boolean) | null = null;
    for (const meta of list) {
      switch (meta.type) {
        case ValidationTypes.CONDITIONAL_VALIDATION:
          conditions.push(meta.constraints[0] as (o: object, v: unknown) => boolean);
          break;
        case ValidationTypes.IS_DEFINED:
          defined.push(constraintCheck(meta));
          break;
        case ValidationTypes.CUSTOM_VALIDATION:
          checks.push(constraintCheck(meta));
          break;
        case ValidationTypes.NESTED_VALIDATION:
          nested = nestedCheck(meta.target as AnyClass, propertyName);
          break;
        case ValidationTypes.WHITELIST:
          break;
        default:
          throw new NotCompilable(`validation type ${meta.type}`);
      }
    }
    return { propertyName, conditions, defined, checks, nested };
  });
  const check: CompiledCheck = (object) => {
    // for-in sees every own key Object.keys would (and inherited enumerable ones, which only send the body to
    // class-validator), without an array per object.
    for (const key in object) if (!allowed.has(key)) return false;
    for (const p of properties) {
      const value = (object as Record<string, unknown>)[p.propertyName];
      // class-validator reduces every condition (no short circuit); they are pure predicates here.
      let validate = true;
      for (const c of p.conditions) validate = c(object, value) && validate;
      if (!validate) continue;
      for (const d of p.defined) if (!d(object, value)) return false;
      for (const c of p.checks) if (!c(object, value)) return false;
      if (p.nested && value !== undefined && !p.nested(value)) return false;
    }
    return true;
  };
  classChecks.set(cls, check);
  return check;
}

/** The compiled checker of a contract class, built once; null when the contract must go to class-validator. */
export function compiledContract(cls: AnyClass): CompiledContract | null {
  let compiled = compiledContracts.get(cls);
  if (compiled === undefined) {
    nestedClasses = [];
    try {
      const accepts = compileClass(cls);
      // Nested checkers compile lazily; walk them now so every nested class is known (and compilable).
      for (let i = 0; i < nestedClasses.length; i++) compileClass(nestedClasses[i]);
      compiled = { accepts, plainData: [cls, ...nestedClasses].every(isPureData) };
    } catch (err) {
      if (!(err instanceof NotCompilable)) throw err;
      compiled = null;
    }
    compiledContracts.set(cls, compiled);
  }
  return compiled;
}
