/** Renders rows as a plain aligned text table with a header line. */
export function renderTable<R extends object>(rows: readonly R[], columns: readonly (keyof R & string)[]): string {
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return '-'
    if (typeof value === 'object') return JSON.stringify(value)
    return String(value).replace(/\s+/g, ' ')
  }
  const matrix = rows.map((row) => columns.map((c) => cell(row[c])))
  const widths = columns.map((c, i) => Math.max(c.length, ...matrix.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((text, i) => (i === cells.length - 1 ? text : text.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(columns.map((c) => c.toUpperCase())), ...matrix.map(line)].join('\n')
}

/** Human-readable byte counts (1.5 GiB). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}
