import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {createWebUi} from './static.js'

async function serveUi(dir?: string) {
  const ui = createWebUi(dir)
  const server = createServer((req, res) => {
    if (!ui.serve(new URL(req.url ?? '/', 'http://x').pathname, res, req.method)) res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {url, close: () => new Promise<void>((resolve) => server.close(() => resolve()))}
}

describe('the web UI files', () => {
  it('serves the page and its module scripts with a strict CSP', async () => {
    const s = await serveUi()
    try {
      const page = await fetch(`${s.url}/`)
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
      const html = await page.text()
      expect(html).toContain('<script type="module" src="/web/app.js">')
      for (const path of ['/web/app.js', '/web/chat-log.js', '/web/markdown.js', '/web/style.css']) {
        const res = await fetch(`${s.url}${path}`)
        expect(res.status, path).toBe(200)
        expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      }
      expect((await fetch(`${s.url}/web/app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8')
      // Nothing else is served, and no traversal reaches the sources
      expect((await fetch(`${s.url}/web/static.ts`)).status).toBe(404)
      expect((await fetch(`${s.url}/web/../web/static.ts`)).status).toBe(404)
      expect((await fetch(`${s.url}/`, {method: 'POST'})).status).toBe(405)
    } finally {
      await s.close()
    }
  })

  it('answers 404 with a hint when the build did not copy the files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osmoda-web-'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html>')
    const s = await serveUi(dir)
    try {
      expect((await fetch(`${s.url}/`)).status).toBe(200)
      const missing = await fetch(`${s.url}/web/app.js`)
      expect(missing.status).toBe(404)
      expect(((await missing.json()) as any).error.hint).toContain('npm run build')
    } finally {
      await s.close()
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
