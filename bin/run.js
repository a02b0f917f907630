#!/usr/bin/env node
// Entry point of the `osmoda` executable. The compile cache (Node >= 22.1) is enabled before
// anything heavy is imported, so repeated CLI calls skip recompiling our modules.
import * as nodeModule from 'node:module'

nodeModule.enableCompileCache?.()

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
