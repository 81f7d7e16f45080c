import type { MetadataStorage } from 'class-transformer/types/MetadataStorage';
import { getMetadataStorage, ValidationTypes } from 'class-validator';

// class-transformer keeps @Type() targets in this module-level store; it has no public accessor.
type StorageModule = { defaultMetadataStorage: MetadataStorage };
const CLASS_TRANSFORMER_STORAGE = 'class-transformer/cjs/storage';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const storage = require(CLASS_TRANSFORMER_STORAGE) as StorageModule;
const transformerStore = storage.defaultMetadataStorage;

/**
 * Every leaf field of a contract DTO as a dotted path, read from its decorators (inherited ones included):
 * nested objects and arrays of objects are walked (`customer.phone`, `items.sku`, `utm.term`). A field added to
 * a contract appears here without anyone listing it, so a test over these paths fails until it is mapped.
 */
export function contractFieldPaths(dto: new () => object, prefix = ''): string[] {
  const metas = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  const names = [...new Set(metas.map((m) => m.propertyName))];
  return names.flatMap((name) => {
    const nested = metas.some((m) => m.propertyName === name && m.type === ValidationTypes.NESTED_VALIDATION);
    const path = `${prefix}${name}`;
    if (!nested) return [path];
    const type = transformerStore.findTypeMetadata(dto, name)?.typeFunction() as
      (new () => object) | undefined;
    if (!type) throw new Error(`${path}: nested without @Type(), cannot walk it`);
    return contractFieldPaths(type, `${path}.`);
  });
}
