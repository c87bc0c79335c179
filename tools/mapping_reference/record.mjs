// Records what Segment's mapping-kit makes of each case in cases.mjs, as the reference for
// actionspec's mapping interpreter (tests/test_mapping_reference.py reads the output).
//
// Runs `transform(mapping, event)` from @segment/actions-core's mapping-kit (validation, then
// evaluation, then removal of undefined values) and prints one JSON line per case to stdout:
//   {"default_event"}                      first line: the event of cases without their own
//   {"id", "mapping", "event"?, "output"}  what Segment produced
//   {"id", "mapping", "event"?, "missing": true}  Segment produced undefined (no value at all)
//   {"id", "mapping", "event"?, "error"}   Segment threw (validation or evaluation), its message
// plus, copied from the case, "actionspec_rejects" (actionspec's checks refuse the mapping) or
// "actionspec_differs" (a documented difference), each with the reason.
// The mapping is evaluated as the value of one key, so that a list or a string at the top stays
// what it is (transform() itself spreads them into an object).
import { createRequire } from 'node:module'
import { CASES, EVENT } from './cases.mjs'

// actions-core from this folder's node_modules, else from tools/segment_reference (installed there).
const require = createRequire(import.meta.url)
const here = new URL('.', import.meta.url).pathname
const mappingKit = require.resolve('@segment/actions-core/mapping-kit', {
  paths: [here, new URL('../segment_reference/', import.meta.url).pathname]
})
const { transform } = require(mappingKit)

// The first line is {"default_event": EVENT}; a case line has "event" only when it uses another.
const lines = [JSON.stringify({ default_event: EVENT })]
const ids = new Set()
for (const [id, mapping, event = EVENT, marker = {}] of CASES) {
  if (ids.has(id)) throw new Error(`duplicate case id ${id}`)
  ids.add(id)
  const line = { id, mapping: structuredClone(mapping) }
  if (event !== EVENT) line.event = event
  try {
    // transform() changes some directives' options in place (@replace defaults): pass a copy.
    // Wrapped in an object: transform() spreads a top-level list or string into an object.
    const output = transform({ value: structuredClone(mapping) }, structuredClone(event)).value
    if (output === undefined) line.missing = true
    else line.output = output
  } catch (error) {
    // Validation errors come as an AggregateError: its messages, each followed by a stack trace.
    const messages = String(error.message).split('\n').map((s) => s.trim())
    line.error = messages.filter((s) => s && !s.startsWith('at ')).join('; ')
  }
  if (marker.rejects) line.actionspec_rejects = marker.rejects
  if (marker.differs) line.actionspec_differs = marker.differs
  lines.push(JSON.stringify(line))
}
process.stdout.write(lines.join('\n') + '\n')
