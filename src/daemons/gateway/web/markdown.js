// Markdown → HTML for the chat page. Every piece of text is HTML-escaped before any markup is
// added, so nothing an agent (or a prompt-injected tool output) writes can become live HTML.
// Supports headings, paragraphs, emphasis, inline code, fenced code, lists (nested by indent),
// block quotes, rules, tables and http(s)/mailto links. Pure: no DOM, testable in Node.

const ESCAPES = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}

/** Escapes the five HTML-significant characters. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c])
}

const SAFE_URL = /^(https?:\/\/|mailto:)[^\s]+$/i

/** Inline markup of one line or paragraph: code spans first, the rest escaped then decorated. */
export function renderInline(text) {
  const parts = String(text).split(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/)
  let out = ''
  for (let i = 0; i < parts.length; i += 3) {
    out += decorate(escapeHtml(parts[i]))
    if (i + 2 < parts.length) out += `<code>${escapeHtml(parts[i + 2])}</code>`
  }
  return out
}

function decorate(escaped) {
  // Links are set aside first (behind private-use placeholders, stripped from the input) so
  // emphasis markers inside a URL never touch the attribute.
  const links = []
  const text = escaped.replace(/\uE000/g, '').replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, (whole, label, url) => {
    const raw = url.replace(/&amp;/g, '&')
    if (!SAFE_URL.test(raw)) return label
    links.push({label, url})
    return `\uE000${links.length - 1}\uE000`
  })
  return emphasis(text).replace(/\uE000(\d+)\uE000/g, (whole, n) => {
    const link = links[Number(n)]
    return `<a href="${link.url}" target="_blank" rel="noopener noreferrer">${emphasis(link.label)}</a>`
  })
}

function emphasis(text) {
  return text
    .replace(/\*\*([^*\n]+?)\*\*/g, '<strong>$1</strong>')
    .replace(/__([^_\n]+?)__/g, '<strong>$1</strong>')
    .replace(/(^|[^*\w])\*([^*\s][^*\n]*?)\*(?![*\w])/g, '$1<em>$2</em>')
    .replace(/(^|[^_\w])_([^_\s][^_\n]*?)_(?![_\w])/g, '$1<em>$2</em>')
    .replace(/~~([^~\n]+?)~~/g, '<del>$1</del>')
}

const FENCE = /^\s{0,3}(```|~~~)\s*([\w+-]*)\s*$/
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/
const QUOTE = /^\s{0,3}>\s?(.*)$/
const TABLE_SEPARATOR = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/

/** Renders a markdown document to an HTML string. */
export function renderMarkdown(text) {
  const lines = String(text ?? '').replace(/\r\n?/g, '\n').split('\n')
  return renderBlocks(lines)
}

function renderBlocks(lines) {
  const out = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]
    if (line.trim() === '') {
      i++
      continue
    }
    const fence = FENCE.exec(line)
    if (fence) {
      const body = []
      i++
      while (i < lines.length && !new RegExp(`^\\s{0,3}${fence[1]}\\s*$`).test(lines[i])) body.push(lines[i++])
      i++
      const lang = fence[2] ? ` class="language-${escapeHtml(fence[2])}"` : ''
      out.push(`<pre><code${lang}>${escapeHtml(body.join('\n'))}</code></pre>`)
      continue
    }
    const heading = HEADING.exec(line)
    if (heading) {
      const level = heading[1].length
      out.push(`<h${level}>${renderInline(heading[2])}</h${level}>`)
      i++
      continue
    }
    if (RULE.test(line)) {
      out.push('<hr>')
      i++
      continue
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1]) && lines[i + 1].includes('|')) {
      const rows = [line]
      const separator = lines[i + 1]
      i += 2
      while (i < lines.length && lines[i].includes('|') && lines[i].trim() !== '') rows.push(lines[i++])
      out.push(renderTable(rows, separator))
      continue
    }
    if (QUOTE.test(line)) {
      const quoted = []
      while (i < lines.length && QUOTE.test(lines[i])) quoted.push(QUOTE.exec(lines[i++])[1])
      out.push(`<blockquote>${renderBlocks(quoted)}</blockquote>`)
      continue
    }
    if (LIST_ITEM.test(line)) {
      const block = []
      while (i < lines.length && (LIST_ITEM.test(lines[i]) || (lines[i].trim() !== '' && /^\s+/.test(lines[i])))) block.push(lines[i++])
      out.push(renderList(block))
      continue
    }
    const paragraph = []
    while (i < lines.length && lines[i].trim() !== '' && !startsBlock(lines, i)) paragraph.push(lines[i++].trim())
    out.push(`<p>${paragraph.map(renderInline).join('<br>')}</p>`)
  }
  return out.join('\n')
}

function startsBlock(lines, i) {
  const line = lines[i]
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || LIST_ITEM.test(line) || (line.includes('|') && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1]) && lines[i + 1].includes('|'))
}

function renderList(block) {
  const first = LIST_ITEM.exec(block[0])
  const indent = first[1].length
  const ordered = /\d/.test(first[2])
  const items = []
  for (const line of block) {
    const item = LIST_ITEM.exec(line)
    if (item && item[1].length <= indent) items.push({text: item[3], children: []})
    else if (items.length > 0) items[items.length - 1].children.push(line)
  }
  const start = ordered && parseInt(first[2], 10) !== 1 ? ` start="${parseInt(first[2], 10)}"` : ''
  const html = items
    .map((item) => {
      const nested = item.children.length > 0 ? (LIST_ITEM.test(item.children[0]) ? renderList(item.children) : `<br>${item.children.map((c) => renderInline(c.trim())).join('<br>')}`) : ''
      return `<li>${renderInline(item.text)}${nested}</li>`
    })
    .join('')
  return ordered ? `<ol${start}>${html}</ol>` : `<ul>${html}</ul>`
}

function splitRow(row) {
  let text = row.trim()
  if (text.startsWith('|')) text = text.slice(1)
  if (text.endsWith('|') && !text.endsWith('\\|')) text = text.slice(0, -1)
  return text.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'))
}

function renderTable(rows, separator) {
  const aligns = splitRow(separator).map((cell) => {
    const left = cell.startsWith(':')
    const right = cell.endsWith(':')
    return left && right ? 'center' : right ? 'right' : left ? 'left' : null
  })
  const cell = (tag, text, column) => {
    const align = aligns[column] ? ` class="align-${aligns[column]}"` : ''
    return `<${tag}${align}>${renderInline(text)}</${tag}>`
  }
  const header = splitRow(rows[0])
  const width = header.length
  const head = `<thead><tr>${header.map((text, c) => cell('th', text, c)).join('')}</tr></thead>`
  const body = rows
    .slice(1)
    .map((row) => {
      const cells = splitRow(row)
      const padded = Array.from({length: width}, (_, c) => cells[c] ?? '')
      return `<tr>${padded.map((text, c) => cell('td', text, c)).join('')}</tr>`
    })
    .join('')
  return `<table>${head}${body ? `<tbody>${body}</tbody>` : ''}</table>`
}
