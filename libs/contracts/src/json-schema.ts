import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { AnyClass } from './compiled-validation';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1) as plain data. */
export type JsonSchema = { [keyword: string]: unknown };

type Metadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

const storage = getMetadataStorage();

/**
 * Schemas of contract classes, named after their classes, as OpenAPI's `components.schemas` holds them. A class
 * is converted once; a second class with the same name gets a numbered name rather than overwriting the first.
 */
export class SchemaRegistry {
  readonly schemas: Record<string, JsonSchema> = {};
  private readonly names = new Map<AnyClass, string>();

  constructor(private readonly refPrefix = '#/components/schemas/') {}

  /** The schema of `cls` itself (not a reference), registered like refOf does. */
  schemaOf(cls: AnyClass): JsonSchema {
    const ref = this.refOf(cls).$ref as string;
    return this.schemas[ref.slice(this.refPrefix.length)];
  }

  /** A `$ref` to the schema of `cls`, converting it (and every class it nests) on first use. */
  refOf(cls: AnyClass): JsonSchema {
    let name = this.names.get(cls);
    if (!name) {
      name = cls.name || 'Anonymous';
      for (let i = 2; this.schemas[name] !== undefined; i++) name = `${cls.name}${i}`;
      this.names.set(cls, name);
      this.schemas[name] = {}; // placeholder: a class that nests itself refers to its own name
      this.schemas[name] = classSchema(cls, this);
    }
    return { $ref: `${this.refPrefix}${name}` };
  }
}

/** The name a constraint is known by: a decorator's own name, or its @ValidatorConstraint's. */
function ruleOf(meta: Metadata): string | undefined {
  if (meta.name) return meta.name;
  return storage.getTargetValidatorConstraints(meta.constraintCls)[0]?.name;
}

/**
 * What one class-validator rule says about a value, as JSON Schema keywords. Rules without a JSON Schema
 * equivalent (checks of our own: decimal places, time zones, CIDRs) say what they can (the type) and keep their
 * name in `x-rules`, so a reader still sees which check runs.
 */
function ruleSchema(rule: string, c: unknown[]): JsonSchema | null {
  switch (rule) {
    case 'isString':
      return { type: 'string' };
    case 'isNotEmpty':
      return { not: { enum: ['', null] } };
    case 'maxLength':
      return { type: 'string', maxLength: c[0] };
    case 'minLength':
      return { type: 'string', minLength: c[0] };
    case 'length':
      return { type: 'string', minLength: c[0], ...(c[1] !== undefined && { maxLength: c[1] }) };
    case 'isIn':
      return { enum: c[0] };
    case 'equals':
      return { const: c[0] };
    case 'isEnum':
      return { enum: Object.values(c[0] as object) };
    case 'isBoolean':
      return { type: 'boolean' };
    case 'isInt':
      return { type: 'integer' };
    case 'isNumber':
    case 'isDecimal':
    case 'isSeconds':
    case 'isMoney':
      return { type: 'number' };
    case 'isPositive':
      return { type: 'number', exclusiveMinimum: 0 };
    case 'min':
      return { minimum: c[0] };
    case 'max':
      return { maximum: c[0] };
    case 'isObject':
      return { type: 'object' };
    case 'isArray':
      return { type: 'array' };
    case 'arrayMaxSize':
      return { type: 'array', maxItems: c[0] };
    case 'arrayMinSize':
      return { type: 'array', minItems: c[0] };
    case 'arrayNotEmpty':
      return { type: 'array', minItems: 1 };
    case 'matches': {
      const pattern = c[0] instanceof RegExp ? c[0].source : String(c[0]);
      return { type: 'string', pattern };
    }
    case 'isEmail':
      return { type: 'string', format: 'email' };
    case 'isUrl':
      return { type: 'string', format: 'uri' };
    case 'isUuid':
      return { type: 'string', format: 'uuid' };
    case 'isIso8601':
    case 'isISO8601':
      return { type: 'string', format: 'date-time' };
    case 'isDateString':
      return { type: 'string', format: 'date-time' };
    case 'isIP':
      return { type: 'string' };
    default:
      return null;
  }
}

/** Folds the keywords of several rules into one schema; `allOf` keeps conflicting ones (two patterns) apart. */
function merge(parts: JsonSchema[]): JsonSchema {
  const out: JsonSchema = {};
  const extra: JsonSchema[] = [];
  for (const part of parts) {
    for (const [k, v] of Object.entries(part)) {
      if (k === 'x-rules') out[k] = [...((out[k] as string[]) ?? []), ...(v as string[])];
      else if (out[k] === undefined || JSON.stringify(out[k]) === JSON.stringify(v)) out[k] = v;
      else if (k === 'type')
        continue; // isString + maxLength etc. agree; a real conflict keeps the first
      else extra.push({ [k]: v });
    }
  }
  if (extra.length) out.allOf = extra;
  return out;
}

function propertySchema(target: AnyClass, property: string, metas: Metadata[], registry: SchemaRegistry) {
  const own: JsonSchema[] = [];
  const each: JsonSchema[] = [];
  const unnamed: string[] = [];
  let optional = false;
  let conditional = false;
  let nested: JsonSchema | null = null;
  for (const meta of metas) {
    switch (meta.type) {
      case ValidationTypes.CONDITIONAL_VALIDATION:
        if (meta.name === 'isOptional') optional = true;
        else conditional = true;
        break;
      case ValidationTypes.NESTED_VALIDATION: {
        const typeMeta = defaultMetadataStorage.findTypeMetadata(target, property);
        nested = typeMeta ? registry.refOf(typeMeta.typeFunction() as AnyClass) : { type: 'object' };
        break;
      }
      case ValidationTypes.IS_DEFINED:
        break;
      case ValidationTypes.CUSTOM_VALIDATION: {
        const rule = ruleOf(meta);
        const schema = rule ? ruleSchema(rule, meta.constraints ?? []) : null;
        const known = schema ?? { 'x-rules': [rule ?? 'custom'] };
        if (!schema) unnamed.push(rule ?? 'custom');
        (meta.each ? each : own).push(known);
        break;
      }
      default:
        break;
    }
  }
  let schema = merge(own);
  if (each.length || nested) {
    const items = merge([...each, ...(nested ? [nested] : [])]);
    // `each` and a nested array apply to the elements; a nested single object is the property itself.
    if (schema.type === 'array' || each.length) schema = { ...schema, type: 'array', items };
    else schema = merge([schema, items]);
  }
  if (unnamed.length && !schema['x-rules']) schema['x-rules'] = unnamed;
  // IsOptional lets null through as well as a missing field.
  if (optional && schema.type) schema.type = [schema.type as string, 'null'].flat();
  else if (optional && schema.$ref) schema = { anyOf: [{ $ref: schema.$ref }, { type: 'null' }] };
  return { schema, required: !optional && !conditional };
}

function classSchema(cls: AnyClass, registry: SchemaRegistry): JsonSchema {
  const metas = storage.getTargetValidationMetadatas(cls, undefined as unknown as string, false, false);
  const grouped = storage.groupByPropertyName(metas);
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [property, list] of Object.entries(grouped)) {
    const p = propertySchema(cls, property, list, registry);
    properties[property] = p.schema;
    if (p.required) required.push(property);
  }
  // validateContract refuses unknown fields (whitelist + forbidNonWhitelisted).
  return {
    type: 'object',
    properties,
    ...(required.length && { required }),
    additionalProperties: false,
  };
}

/** The JSON Schema of one contract class with its nested classes under `$defs` (for use outside OpenAPI). */
export function contractJsonSchema(cls: AnyClass): JsonSchema {
  const registry = new SchemaRegistry('#/$defs/');
  const root = registry.refOf(cls);
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...root, $defs: registry.schemas };
}
