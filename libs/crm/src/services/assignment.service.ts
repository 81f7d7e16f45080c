/**
 * Round robin over active managers, as one scalar SQL expression (NULL when there are none), so it can be
 * inlined into the statement that creates a card instead of costing its own round trip.
 */
export const ROUND_ROBIN_MANAGER_SQL = `(
  WITH active AS (SELECT id, row_number() OVER (ORDER BY created_at, id) - 1 AS n,
                         count(*) OVER () AS total FROM managers WHERE active)
  SELECT id FROM active WHERE n = (SELECT nextval('manager_assignment_seq') % max(total) FROM active))`;
