// agentd's hands: files, shell, sandboxes and capability tokens.
import {shellExecClientTimeoutMs} from '../../../daemons/agentd/exec/api.js'
import {agentdApi, sandboxClientTimeoutMs} from '../../../daemons/agentd/api.js'
import {defineTool} from '../define-tool.js'
import {READ_ONLY} from './annotations.js'

/** file_read: a window of lines of one file from agentd POST /file/read. */
export const fileRead = defineTool({
  name: 'file_read',
  title: 'Read a file',
  description:
    'Reads a file on this server, up to 500 lines at a time (max_lines 1..2000, starting at offset_line, 1-based). Returns ' +
    '`{content, first_line, lines_returned, total_lines, truncated, size, mtime, resolved_path}`; each line keeps its newline, ' +
    'and when truncated is true call again with offset_line = first_line + lines_returned. Text only by default: a binary file ' +
    'is refused (VALIDATION_FAILED), read it with encoding "base64". Only paths under the operator\'s read roots (e.g. /etc, ' +
    '/var/log, /srv, /home, /tmp, /workspace) are allowed; secrets such as /etc/shadow, SSH keys, osmoda tokens and the ledger ' +
    'are refused with PATH_DENIED, as are symlinks that lead there. Files over the read limit (10 MiB by default) answer ' +
    'PAYLOAD_TOO_LARGE. It changes nothing.',
  toolset: 'agentd',
  route: agentdApi.fileRead,
  annotations: READ_ONLY,
  summarize: (r) => {
    const span = r.lines_returned ? `lines ${r.first_line}-${r.first_line + r.lines_returned - 1}` : 'no lines'
    return `${r.path}: ${span} of ${r.total_lines} (${r.size} bytes)${r.truncated ? `; more from offset_line ${r.first_line + r.lines_returned}` : ''}`
  },
  run: (clients, args) => clients.agentd.fileRead(args),
})

/** file_write: writes a file through agentd POST /file/write. */
export const fileWrite = defineTool({
  name: 'file_write',
  title: 'Write a file',
  description:
    'Writes a file on this server: replaces it atomically (readers see the old or the new content, never half), or with ' +
    'append: true adds to its end. `content` is UTF-8 text, or bytes in base64 with encoding "base64" (at most 1000000 bytes). ' +
    'An existing file keeps its owner and mode unless you pass `mode` (octal, e.g. "0600"); a new file gets mode 0644 and its ' +
    'directory\'s owner; create_dirs: true creates missing directories. Returns `{path, bytes, sha256, created, mode}` and ' +
    'records a file.written receipt. Only paths under the operator\'s write roots are allowed (e.g. /tmp, /workspace, /srv; ' +
    'others answer PATH_DENIED). Some roots (e.g. /etc, /etc/nixos, /home) need the operator\'s approval: the first call answers ' +
    'APPROVAL_REQUIRED with an approval_id; ask the operator to approve it, then repeat the exact same call with approval_id. ' +
    'Read the file first and write the whole intended content: this overwrites.',
  toolset: 'agentd',
  route: agentdApi.fileWrite,
  annotations: {readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false},
  summarize: (w) => `${w.created ? 'created' : 'wrote'} ${w.path}: ${w.bytes} bytes, mode ${w.mode}, sha256 ${w.sha256.slice(0, 12)}`,
  run: (clients, args) => clients.agentd.fileWrite(args),
})

/** directory_list: the entries of a directory from agentd POST /file/list. */
export const directoryList = defineTool({
  name: 'directory_list',
  title: 'List a directory',
  description:
    'Lists a directory on this server: each entry has name, full path, type (file, dir, symlink, other), size in bytes, mode ' +
    '(octal), mtime and, for symlinks, their target (symlinks are shown, never followed). recursive: true walks subdirectories ' +
    'breadth first down to max_depth (default 3, at most 10); include_hidden: false skips dot files; at most `limit` entries ' +
    '(default 500, at most 5000) with truncated: true when more exist. Only paths under the read roots are allowed; entries ' +
    'on the deny list (secrets, tokens, the ledger) are left out. It changes nothing.',
  toolset: 'agentd',
  route: agentdApi.fileList,
  annotations: READ_ONLY,
  summarize: (l) => {
    const count = (type: string) => l.entries.filter((e) => e.type === type).length
    return `${l.path}: ${l.entries.length} entries (${count('dir')} dirs, ${count('file')} files, ${count('symlink')} symlinks)${l.truncated ? '; truncated, raise limit or narrow the path' : ''}`
  },
  run: (clients, args) => clients.agentd.fileList(args),
})

/** shell_exec: a command in agentd's read-only sandbox, or approved on the host, via POST /shell/exec. */
export const shellExec = defineTool({
  name: 'shell_exec',
  title: 'Run a command',
  description:
    'Runs one command and returns `{mode, argv, exit_code, signal, stdout, stderr, stdout_truncated, stderr_truncated, timed_out, ' +
    'duration_ms, hint?}`. Give `command` (split into words like a shell would, but pipes, redirections, ;, &&, $(), backticks, ' +
    '$VAR and newlines are refused unless `shell: true`, which runs /bin/sh -c) or `argv` (a list, run exactly as given). ' +
    'mode "sandbox" (default, no approval needed): a read-only view of the host with no network, secrets and osmoda state ' +
    'hidden, an empty private /tmp; use it to inspect (ls, cat, df, nix path-info, systemctl cat, grep). Writes fail with ' +
    '"Read-only file system". mode "host": runs as root on the host and always needs the operator\'s approval: the first call ' +
    'answers APPROVAL_REQUIRED with an approval id; once the operator approves, repeat the identical call plus `approval_id`. ' +
    'Prefer typed tools (service_status, journal_logs, file_write, …) when one fits. Deadline `timeout_secs` (default 30, max ' +
    '120; up to 1800 in host mode with an approval) kills the whole process group; output is capped per stream by ' +
    '`max_output_bytes`. Calls are rate limited per agent (RATE_LIMITED with retry_after_secs).',
  toolset: 'agentd',
  route: agentdApi.shellExec,
  annotations: {readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true},
  summarize: (r) => {
    const how = r.timed_out ? 'timed out' : r.exit_code === null ? `killed by ${r.signal ?? 'a signal'}` : `exit ${r.exit_code}`
    const cut = r.stdout_truncated || r.stderr_truncated ? ', output truncated' : ''
    const note = r.warning ? ` WARNING: ${r.warning}` : r.hint ? ` (${r.hint})` : ''
    return `${r.mode}: ${how} after ${r.duration_ms} ms, ${Buffer.byteLength(r.stdout)} bytes stdout, ${Buffer.byteLength(r.stderr)} bytes stderr${cut}${note}`
  },
  run: (clients, args) => clients.agentd.shellExec(args, {timeoutMs: shellExecClientTimeoutMs(args.timeout_secs)}),
})

/** sandbox_exec: runs a command in a bubblewrap sandbox through agentd POST /sandbox/exec. */
export const sandboxExec = defineTool({
  name: 'sandbox_exec',
  title: 'Run in a sandbox',
  description:
    'Runs a command in a throwaway bubblewrap sandbox as an unprivileged user and returns `{exit_code, stdout, stderr, timed_out, ' +
    'duration_ms, …}`. Give `argv` (no shell) or `command` (run by /bin/sh -c inside the sandbox). Tier 2 (default) is for untrusted ' +
    'code: no network, no host files, no host processes, only an empty private /tmp (also HOME and the default cwd); the system\'s ' +
    'programs and libraries are visible read-only. Tier 1 needs `capability`, a token from capability_mint: its fs:read paths are ' +
    'mounted read-only and fs:write paths writable at the same place, and with net: entries HTTPS works through the egress proxy ' +
    '(HTTPS_PROXY is set) to exactly the granted hosts. `stdin` (≤64 KiB) is fed to the command; `timeout_secs` defaults to 60. ' +
    'Nothing it does outside granted paths survives the run. An invalid, expired or revoked token is POLICY_DENIED.',
  toolset: 'agentd',
  route: agentdApi.sandboxExec,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true},
  summarize: (r) => {
    const how = r.timed_out ? 'timed out' : r.exit_code === null ? `killed (${r.signal})` : `exit ${r.exit_code}`
    const out = r.stdout.trim().split('\n').slice(-1)[0] ?? ''
    return `tier ${r.tier} ${how} in ${r.duration_ms} ms${out ? `; last line: ${out.slice(0, 160)}` : ''}`
  },
  run: (clients, args) => clients.agentd.sandboxExec(args, {timeoutMs: sandboxClientTimeoutMs(args.timeout_secs)}),
})

/** capability_mint: a signed capability token for a sandbox or egress client, from agentd POST /capability/mint. */
export const capabilityMint = defineTool({
  name: 'capability_mint',
  title: 'Mint a capability token',
  description:
    'Mints a signed, expiring capability token (osmcap1…) that grants a tier-1 sandbox (sandbox_exec `capability`) or an egress client ' +
    'exactly the listed permissions: "net:host[:port]" (exact host or *.suffix, port default 443) through the egress proxy, ' +
    '"fs:read:/path" / "fs:write:/path" bind mounts. Grant the least you need and the shortest ttl_secs (default 900). Hosts inside ' +
    'the egress allowlist and paths under the sandbox roots (/srv, /workspace, …) are granted at once; anything else answers ' +
    'APPROVAL_REQUIRED: ask the operator to approve, then repeat the same call with approval_id. Returns `{id, token, granted_to, ' +
    'permissions, issued_at, expires_at}`; the token is shown only here, and the operator can revoke it by id.',
  toolset: 'agentd',
  route: agentdApi.capabilityMint,
  annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false},
  summarize: (c) => `minted ${c.id} for ${c.granted_to} (${c.permissions.length} permission${c.permissions.length === 1 ? '' : 's'}), expires ${c.expires_at}`,
  run: (clients, args) => clients.agentd.capabilityMint(args),
})
