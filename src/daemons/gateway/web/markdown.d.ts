/** Escapes the five HTML-significant characters. */
export function escapeHtml(text: string): string
/** Inline markdown (code spans, emphasis, links) to HTML, everything else escaped. */
export function renderInline(text: string): string
/** A markdown document to HTML with every piece of text escaped. */
export function renderMarkdown(text: string | null | undefined): string
