/**
 * The only way this project touches SQL: parameterised statements with a name, so a failure
 * says which query broke, and running totals of the rows the platform bills for.
 */
export type SqlParam = string | number | null | ArrayBuffer;

export class QueryError extends Error {
  constructor(
    readonly query: string,
    cause: unknown,
  ) {
    super(`SQL query "${query}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "QueryError";
  }
}

export interface RowCounts {
  rowsRead: number;
  rowsWritten: number;
}

export class Sql {
  /** Cumulative billing units since the object started; read by tests and the bench's storage probe. */
  readonly counts: RowCounts = { rowsRead: 0, rowsWritten: 0 };

  constructor(private readonly sql: SqlStorage) {}

  /** All rows of a SELECT. The row type is the query's own column list; callers name it. */
  all<T extends Record<string, SqlStorageValue>>(name: string, query: string, ...params: SqlParam[]): T[] {
    try {
      const cursor = this.sql.exec<T>(query, ...params);
      const rows = cursor.toArray();
      this.count(cursor);
      return rows;
    } catch (e) {
      throw new QueryError(name, e);
    }
  }

  /**
   * The rows of a SELECT as arrays, one at a time (for scans of many rows: no object per row). The
   * row type is the query's own column list, in order; callers name it.
   */
  *raw<T extends SqlStorageValue[]>(name: string, query: string, ...params: SqlParam[]): Generator<T> {
    let cursor: SqlStorageCursor<Record<string, SqlStorageValue>>;
    let rows: IterableIterator<T>;
    try {
      cursor = this.sql.exec(query, ...params);
      rows = cursor.raw<T>();
    } catch (e) {
      throw new QueryError(name, e);
    }
    yield* rows;
    this.count(cursor);
  }

  /** The first row of a SELECT as an array (null: none); the cursor is read to its end, so its rows are counted. */
  firstRaw<T extends SqlStorageValue[]>(name: string, query: string, ...params: SqlParam[]): T | null {
    return [...this.raw<T>(name, query, ...params)][0] ?? null;
  }

  one<T extends Record<string, SqlStorageValue>>(name: string, query: string, ...params: SqlParam[]): T | null {
    return this.all<T>(name, query, ...params)[0] ?? null;
  }

  run(name: string, query: string, ...params: SqlParam[]): void {
    this.all(name, query, ...params);
  }

  private count(cursor: SqlStorageCursor<Record<string, SqlStorageValue>>): void {
    this.counts.rowsRead += cursor.rowsRead;
    this.counts.rowsWritten += cursor.rowsWritten;
  }
}
