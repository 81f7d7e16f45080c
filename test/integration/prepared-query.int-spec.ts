import { preparedQuery, statementName } from '@switchboard/crm';
import { useIntegrationDb } from './support/db';

const db = useIntegrationDb();

const ECHO = `SELECT x.n, x.s FROM unnest($1::int[], $2::text[]) AS x(n, s) ORDER BY x.n`;

describe('preparedQuery: hot statements as named prepared statements of the transaction', () => {
  it('answers what em.query answers, in and out of a transaction, and prepares once per connection', async () => {
    const params = [
      [2, 1],
      ['b', 'a'],
    ];
    const plain = await db().manager.query(ECHO, params);
    expect(await preparedQuery(db().manager, ECHO, params)).toEqual(plain);

    await db().transaction(async (em) => {
      for (let i = 0; i < 8; i += 1) expect(await preparedQuery(em, ECHO, params)).toEqual(plain);
      const prepared: Array<{ name: string; generic_plans: string; custom_plans: string }> = await em.query(
        `SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1`,
        [statementName(ECHO)],
      );
      // Prepared once on this connection, and planned generically once custom plans stopped paying.
      expect(prepared).toHaveLength(1);
      expect(Number(prepared[0].generic_plans) + Number(prepared[0].custom_plans)).toBe(8);
      expect(Number(prepared[0].generic_plans)).toBeGreaterThan(0);
    });
  });

  it('answers an UPDATE with its RETURNING rows and rolls back with its transaction', async () => {
    await db().query(`CREATE TABLE IF NOT EXISTS prepared_probe (id int PRIMARY KEY, v text)`);
    await db().query(`TRUNCATE prepared_probe`);
    await db().query(`INSERT INTO prepared_probe VALUES (1, 'old')`);
    const UPDATE = `UPDATE prepared_probe SET v = $2 WHERE id = $1 RETURNING id, v`;
    await expect(
      db().transaction(async (em) => {
        expect(await preparedQuery(em, UPDATE, [1, 'new'])).toEqual([{ id: 1, v: 'new' }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await db().query(`SELECT v FROM prepared_probe`)).toEqual([{ v: 'old' }]);
  });

  it('reports a failing statement as the database error, with its SQLSTATE', async () => {
    await expect(
      db().transaction((em) => preparedQuery(em, `SELECT 1 / $1::int AS x`, [0])),
    ).rejects.toMatchObject({ code: '22012' });
  });

  it('names a statement by its text alone', () => {
    expect(statementName(ECHO)).toBe(statementName(`${ECHO}`));
    expect(statementName(ECHO)).not.toBe(statementName(`${ECHO} `));
    expect(statementName(ECHO)).toMatch(/^sb_[0-9a-f]{24}$/);
  });
});
