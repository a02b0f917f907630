/** The allowlist as `osmoda egress allowlist` prints it. */
export function renderAllowlist(a: {default_allow: readonly string[]; allowed_ports: readonly number[]; allow_private_cidrs: readonly string[]; source: string}): string {
  return [
    `hosts without a token: ${a.default_allow.length ? a.default_allow.join(' ') : '(none)'}`,
    `ports: ${a.allowed_ports.join(' ')}`,
    `private ranges opened: ${a.allow_private_cidrs.length ? a.allow_private_cidrs.join(' ') : '(none)'}`,
    `source: ${a.source === 'state' ? 'set by the operator (egress/allowlist.json)' : 'config (Nix)'}`,
  ].join('\n')
}
