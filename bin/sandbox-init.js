#!/usr/bin/env node
// `osmoda sandbox-init`, internal: the CONNECT helper inside tier-1 sandboxes with network. A plain
// script rather than an oclif command: it starts inside every such sandbox, so it loads nothing
// but its own module (see src/daemons/agentd/sandbox/init.ts).
import {runSandboxInit} from '../dist/daemons/agentd/sandbox/init.js'

process.exit(await runSandboxInit(process.argv.slice(2)))
