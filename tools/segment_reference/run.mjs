#!/usr/bin/env node
// Reads JSON-lines cases on stdin, prints one JSON line per case (see harness.mjs for the format).
// Runs Segment's published package only to observe its behaviour.
import readline from 'node:readline'
import { runCase } from './harness.mjs'

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of rl) {
  if (!line.trim()) continue
  let c
  try {
    c = JSON.parse(line)
  } catch (e) {
    process.stdout.write(JSON.stringify({ case: null, error: { type: 'HarnessInputError', message: e.message } }) + '\n')
    continue
  }
  const out = await runCase(c)
  process.stdout.write(JSON.stringify(out) + '\n')
}

