/** The little of a SQL client the peer store needs, so TypeORM (console, CLI) and pg (gateway) both fit. */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface SqlDb extends Sql {
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

interface TypeOrmLike {
  query(text: string, params?: unknown[]): Promise<unknown>;
  transaction<T>(
    fn: (em: { query(text: string, params?: unknown[]): Promise<unknown> }) => Promise<T>,
  ): Promise<T>;
}

/** TypeORM answers UPDATE/DELETE … RETURNING on PostgreSQL as `[rows, affectedCount]`; rows are objects. */
function rowsOf<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

/** TypeORM's DataSource as SqlDb. */
export function sqlFromDataSource(ds: TypeOrmLike): SqlDb {
  return {
    query: async <T>(text: string, params?: unknown[]) => rowsOf<T>(await ds.query(text, params)),
    transaction: (fn) =>
      ds.transaction((em) =>
        fn({ query: async <T>(t: string, p?: unknown[]) => rowsOf<T>(await em.query(t, p)) }),
      ),
  };
}

interface PgPoolLike {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  connect(): Promise<{
    query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
    release(err?: Error): void;
  }>;
}

/** A pg Pool as SqlDb. */
export function sqlFromPool(pool: PgPoolLike): SqlDb {
  return {
    query: async <T>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as T[],
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <T>(t: string, p?: unknown[]) => (await client.query(t, p)).rows as T[],
        });
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release(err as Error);
        throw err;
      }
    },
  };
}

/** A TypeORM EntityManager (inside a transaction) as Sql. */
export function sqlFromManager(em: { query(text: string, params?: unknown[]): Promise<unknown> }): Sql {
  return { query: async <T>(t: string, p?: unknown[]) => rowsOf<T>(await em.query(t, p)) };
}
