import {describe, expect, it} from 'vitest'
import {escapeHtml, renderInline, renderMarkdown} from './markdown.js'

describe('renderMarkdown escapes HTML', () => {
  it.each([
    {name: 'a script tag', md: '<script>alert(1)</script>', want: '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>'},
    {name: 'an img onerror', md: '<img src=x onerror="alert(1)">', want: '<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p>'},
    {name: 'HTML in a heading', md: '# <b>hi</b>', want: '<h1>&lt;b&gt;hi&lt;/b&gt;</h1>'},
    {name: 'HTML in code', md: '```html\n<div onclick="x">&amp;</div>\n```', want: '<pre><code class="language-html">&lt;div onclick=&quot;x&quot;&gt;&amp;amp;&lt;/div&gt;</code></pre>'},
    {name: 'HTML in a code span', md: 'run `<b>` now', want: '<p>run <code>&lt;b&gt;</code> now</p>'},
    {name: 'HTML in a table cell', md: '| a |\n|---|\n| <i>x</i> |', want: '<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>&lt;i&gt;x&lt;/i&gt;</td></tr></tbody></table>'},
    {name: 'a javascript: link', md: '[click](javascript:alert(1))', want: '<p>click)</p>'},
    {name: 'a data: link', md: '[x](data:text/html,<b>)', want: '<p>x</p>'},
    {name: 'a quote breaking out of href', md: '[x](https://a.example/"onmouseover="alert(1))', want: '<p><a href="https://a.example/&quot;onmouseover=&quot;alert(1" target="_blank" rel="noopener noreferrer">x</a>)</p>'},
    {name: 'a fence language with markup', md: '```"><script>\nx\n```', want: '<p>```&quot;&gt;&lt;script&gt;<br>x</p>\n<pre><code></code></pre>'},
  ])('$name', ({md, want}) => {
    expect(renderMarkdown(md)).toBe(want)
  })

  it('no rendered output of hostile input contains a live tag other than the allowed ones', () => {
    const hostile = ['<svg/onload=alert(1)>', '"><iframe src=//evil>', "'-alert(1)-'", '<a href="javascript:x">y</a>', '**<b>bold</b>**', '- <li>x', '> <script>', '| <th> | b |\n|---|---|\n| 1 | 2 |']
    for (const md of hostile) {
      const html = renderMarkdown(md)
      const tags = [...html.matchAll(/<\/?([a-z0-9]+)/g)].map((m) => m[1])
      expect(tags.every((t) => ['p', 'br', 'strong', 'em', 'code', 'pre', 'ul', 'ol', 'li', 'blockquote', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'a', 'h1', 'del'].includes(t!)), html).toBe(true)
      expect(html).not.toMatch(/<(script|svg|iframe|img)/i)
      expect(html).not.toMatch(/href="javascript/i)
    }
  })
})

describe('renderMarkdown structure', () => {
  it('renders a table with alignment and ragged rows', () => {
    const md = '| Disk | Used | Free |\n|:-----|-----:|:----:|\n| / | **80%** | 2 GB |\n| /var | 10% |'
    expect(renderMarkdown(md)).toBe(
      '<table><thead><tr><th class="align-left">Disk</th><th class="align-right">Used</th><th class="align-center">Free</th></tr></thead>' +
        '<tbody><tr><td class="align-left">/</td><td class="align-right"><strong>80%</strong></td><td class="align-center">2 GB</td></tr>' +
        '<tr><td class="align-left">/var</td><td class="align-right">10%</td><td class="align-center"></td></tr></tbody></table>',
    )
  })

  it('keeps escaped pipes inside a cell', () => {
    expect(renderMarkdown('| cmd |\n|---|\n| a \\| b |')).toBe('<table><thead><tr><th>cmd</th></tr></thead><tbody><tr><td>a | b</td></tr></tbody></table>')
  })

  it('renders headings, lists (nested and ordered), quotes, rules and paragraphs', () => {
    const md = '## Status\n\n- disk ok\n- memory *high*\n  - swap 2 GB\n\n3. first\n4. second\n\n> quoted `x`\n\n---\nline one\nline two'
    expect(renderMarkdown(md)).toBe(
      [
        '<h2>Status</h2>',
        '<ul><li>disk ok</li><li>memory <em>high</em><ul><li>swap 2 GB</li></ul></li></ul>',
        '<ol start="3"><li>first</li><li>second</li></ol>',
        '<blockquote><p>quoted <code>x</code></p></blockquote>',
        '<hr>',
        '<p>line one<br>line two</p>',
      ].join('\n'),
    )
  })

  it('renders links, emphasis and code spans without touching URLs', () => {
    expect(renderInline('see [the _docs_](https://example.com/a_b_/c?x=1&y=2) and ~~old~~ __new__')).toBe(
      'see <a href="https://example.com/a_b_/c?x=1&amp;y=2" target="_blank" rel="noopener noreferrer">the <em>docs</em></a> and <del>old</del> <strong>new</strong>',
    )
    expect(renderInline('`a*b*c` and snake_case_name')).toBe('<code>a*b*c</code> and snake_case_name')
  })

  it('escapeHtml covers the five characters', () => {
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;')
  })
})
