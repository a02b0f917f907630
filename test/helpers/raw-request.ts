import {request} from 'node:http'

/** A raw HTTP exchange over a Unix socket, for bad-input tests the typed client cannot express. */
export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  body: any
}

/** Sends one request with exactly these headers and body bytes. */
export function rawRequest(socketPath: string, method: string, path: string, options: {headers?: Record<string, string>; body?: string | Buffer} = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({socketPath, method, path, headers: options.headers}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch {
          body = undefined
        }
        resolve({status: res.statusCode ?? 0, headers: res.headers, text, body})
      })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}
