import {describe, expect, it} from 'vitest'
import {z} from 'zod'
import {decodeQuery, encodeQuery} from './query.js'

const Schema = z.strictObject({
  limit: z.number().int().default(5),
  follow: z.boolean().optional(),
  tags: z.array(z.string()).optional(),
  name: z.string().optional(),
})

describe('query strings', () => {
  it('round-trips typed values', () => {
    const text = encodeQuery({limit: 7, follow: true, tags: ['a', 'b'], name: '1e3', skip: undefined})
    expect(decodeQuery(Schema, new URLSearchParams(text.slice(1)))).toEqual({limit: 7, follow: true, tags: ['a', 'b'], name: '1e3'})
  })

  it('leaves ambiguous text as text so validation reports it', () => {
    const decoded = decodeQuery(Schema, new URLSearchParams('limit=ten&follow=yes'))
    expect(decoded).toEqual({limit: 'ten', follow: 'yes'})
    expect(Schema.safeParse(decoded).success).toBe(false)
  })

  it('passes unknown keys through so the strict schema rejects them', () => {
    expect(decodeQuery(Schema, new URLSearchParams('evil=1'))).toEqual({evil: '1'})
  })
})
