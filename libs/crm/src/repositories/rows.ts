/** TypeORM's postgres driver answers an UPDATE/DELETE with [rows, count] and anything else with rows. */
export function returnedRows<T>(result: unknown): T[] {
  const r = result as unknown[];
  return (r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number' ? r[0] : r) as T[];
}
