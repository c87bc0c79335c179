#!/usr/bin/env node
// Dumps the data parts (no function bodies) of Segment's published Clay, Loops and
// CleverTap (Actions) definitions, by introspecting the objects loaded at run time,
// plus a few observed behaviours (extendRequest output, auth test / onDelete requests).
// Usage: node dump-definitions.mjs > ../../tests/segment_reference/definitions.json
import { readFileSync } from 'node:fs'
import { runCase, getDestination, core, DESTINATIONS } from './harness.mjs'

const version = (pkg) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version

const SAMPLE_SETTINGS = {
  clay: { connection_key: 'ck_123', secret_key: 'sk_secret' },
  loops: { apiKey: 'loops_key' },
  clevertap: {
    clevertapAccountId: 'acc',
    clevertapPasscode: 'pass',
    clevertapEndpoint: 'https://eu1.api.clevertap.com'
  }
}

// Replace functions by a marker so the dump shows where behaviour lives without its code.
function dataOnly(value) {
  return JSON.parse(
    JSON.stringify(value, (_k, v) => (typeof v === 'function' ? '[function]' : v))
  )
}

const out = {
  generatedBy: 'tools/segment_reference/dump-definitions.mjs',
  packages: {
    '@segment/action-destinations': version('@segment/action-destinations'),
    '@segment/actions-core': version('@segment/actions-core')
  },
  destinations: {}
}

for (const name of Object.keys(DESTINATIONS).filter((n) => n !== 'probe')) {
  const { definition, destination } = getDestination(name)
  const settings = SAMPLE_SETTINGS[name]
  const entry = { modulePath: DESTINATIONS[name], definition: dataOnly(definition) }

  // Which behaviour hooks exist (functions), per destination and per action.
  entry.functions = Object.fromEntries(
    Object.entries(definition).filter(([, v]) => typeof v === 'function').map(([k]) => [k, true])
  )
  if (definition.authentication) {
    entry.authenticationFunctions = Object.keys(definition.authentication).filter(
      (k) => typeof definition.authentication[k] === 'function'
    )
  }
  entry.actionFunctions = {}
  entry.actionJsonSchema = {}
  for (const [key, action] of Object.entries(definition.actions)) {
    entry.actionFunctions[key] = Object.keys(action).filter((k) => typeof action[k] === 'function')
    entry.actionJsonSchema[key] = core.fieldsToJsonSchema(action.fields)
  }
  if (definition.authentication?.fields) {
    entry.settingsJsonSchema = core.fieldsToJsonSchema(definition.authentication.fields)
  }

  // Observed behaviour with the sample settings.
  entry.observed = { sampleSettings: settings }
  if (typeof definition.extendRequest === 'function') {
    entry.observed.extendRequest = dataOnly(
      definition.extendRequest({ settings, payload: undefined, auth: undefined })
    )
  }
  entry.observed.testAuthentication = await runCase({
    id: `${name}:__testAuthentication`,
    destination: name,
    action: '__testAuthentication',
    settings
  })
  if (destination.onDelete) {
    entry.observed.onDelete = await runCase({
      id: `${name}:__onDelete`,
      destination: name,
      action: '__onDelete',
      event: { userId: 'user-1', anonymousId: 'anon-1' },
      settings
    })
  }
  out.destinations[name] = entry
}

process.stdout.write(JSON.stringify(out, null, 2) + '\n')
