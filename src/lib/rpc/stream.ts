/** A streamed NDJSON response: a handler returns one to keep the connection open. */
export class NdjsonStream {
  constructor(readonly source: AsyncIterable<unknown>) {}
}

/** Wraps an async iterable as an NDJSON response body (`follow=1` routes). */
export function ndjson(source: AsyncIterable<unknown>): NdjsonStream {
  return new NdjsonStream(source)
}

/** Splits a byte stream into parsed NDJSON objects. */
export async function* parseNdjson(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  let buffered = ''
  for await (const chunk of chunks) {
    buffered += typeof chunk === 'string' ? chunk : chunk.toString('utf8')
    let newline = buffered.indexOf('\n')
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim()
      buffered = buffered.slice(newline + 1)
      if (line) yield JSON.parse(line)
      newline = buffered.indexOf('\n')
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered)
}
