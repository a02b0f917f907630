import type {Db} from './open.js'

/**
 * One page of rows that keep a JSON document per id, newest id first (ids are ULID-based, so id
 * order is time order), with SPEC §1.7's cursor: the last id of the previous page. One row more
 * than asked tells whether another page exists, so the last page never carries a cursor.
 * `table`, `column` and the filter keys are code constants, never request input.
 */
export function pageJsonRows<T>(
  db: Db,
  query: {table: string; column: string; filter: Record<string, string | undefined>; cursor?: string; limit: number},
): {items: T[]; next_cursor: string | null} {
  const where: string[] = []
  const args: unknown[] = []
  for (const [key, value] of Object.entries(query.filter)) {
    if (value === undefined) continue
    where.push(`${key} = ?`)
    args.push(value)
  }
  if (query.cursor !== undefined) {
    where.push('id < ?')
    args.push(query.cursor)
  }
  const sql = `SELECT id, ${query.column} AS doc FROM ${query.table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
  const rows = db.prepare<unknown[], {id: string; doc: string}>(sql).all(...args, query.limit + 1)
  const page = rows.slice(0, query.limit)
  return {items: page.map((r) => JSON.parse(r.doc) as T), next_cursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null}
}
