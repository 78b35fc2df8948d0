/**
 * The only way this project talks to D1: parameterised statements with a name, so a failure says
 * which query broke (as src/sql.ts does for the persona objects' SQLite), and a count of every
 * statement sent, which the tests read to prove that requests with known keys cost no query and
 * a flood of unknown keys costs a bounded number.
 */
import { QueryError, type SqlParam } from "../sql";

/** Statements sent to D1 by this isolate. Read by tests only; no route exposes it. */
export const registryStats = { queries: 0 };

export interface Statement {
  name: string;
  sql: string;
  params: SqlParam[];
}

export const statement = (name: string, sql: string, ...params: SqlParam[]): Statement => ({ name, sql, params });

/** True when a write failed on a UNIQUE or PRIMARY KEY constraint (e.g. an id already taken). */
export function isUniqueViolation(err: unknown): boolean {
  const cause = err instanceof QueryError ? err.cause : err;
  return cause instanceof Error && /UNIQUE constraint failed/i.test(cause.message);
}

export class RegistryDb {
  constructor(private readonly db: D1Database) {}

  /** All rows of a SELECT; the row type is the query's own column list, named by the caller. */
  async all<T extends Record<string, unknown>>(name: string, sql: string, ...params: SqlParam[]): Promise<T[]> {
    registryStats.queries += 1;
    try {
      const { results } = await this.db
        .prepare(sql)
        .bind(...params)
        .all<T>();
      return results;
    } catch (e) {
      throw new QueryError(name, e);
    }
  }

  async first<T extends Record<string, unknown>>(name: string, sql: string, ...params: SqlParam[]): Promise<T | null> {
    return (await this.all<T>(name, sql, ...params))[0] ?? null;
  }

  /** A write; resolves with the number of rows it changed. */
  async run(name: string, sql: string, ...params: SqlParam[]): Promise<number> {
    registryStats.queries += 1;
    try {
      const result = await this.db
        .prepare(sql)
        .bind(...params)
        .run();
      return result.meta.changes;
    } catch (e) {
      throw new QueryError(name, e);
    }
  }

  /**
   * Statements run in order in one transaction (D1's `batch`): all of them or none. Resolves with
   * the rows each one changed.
   */
  async batch(statements: Statement[]): Promise<number[]> {
    registryStats.queries += statements.length;
    try {
      const results = await this.db.batch(statements.map((s) => this.db.prepare(s.sql).bind(...s.params)));
      return results.map((r) => r.meta.changes);
    } catch (e) {
      throw new QueryError(statements.map((s) => s.name).join(" + "), e);
    }
  }
}
