/**
 * A bounded map from SQL text to a prepared statement. Preparing costs far more than running a
 * statement (SQLite parses and plans it), and compiled queries repeat their SQL text for every call
 * with the same shape, because every value is a bound parameter. Eviction is first-in-first-out: a
 * statement evicted while still hot is simply prepared again.
 */
export class StatementCache<S> {
  private readonly entries = new Map<string, S>();

  constructor(
    private readonly capacity: number,
    private readonly prepare: (sql: string) => S,
  ) {}

  get(sql: string): S {
    let statement = this.entries.get(sql);
    if (statement === undefined) {
      statement = this.prepare(sql);
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(sql, statement);
    }
    return statement;
  }

  clear(): void {
    this.entries.clear();
  }
}
