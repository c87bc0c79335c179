// Reference harness: runs Segment's *published* npm package
// (@segment/action-destinations 3.497.0 with @segment/actions-core 3.170.0)
// (shared by run.mjs and dump-definitions.mjs)
// on JSON-lines input and prints what it sends over HTTP (or the error it raises).
// This file is our own code; it only loads and executes the installed package to observe behaviour.
//
// Input, one JSON object per line:
//   {"id": "...", "destination": "clay"|"loops"|"clevertap", "action": "<actionKey>"|"__onDelete"|"__testAuthentication",
//    "event": {...}, "settings": {...}, "mapping": {...optional...},
//    "response": {"status": 200, "body": {...}} (optional, reply of the intercepted HTTP server)}
// Output, one JSON object per line:
//   {"case": id, "requests": [{"method", "url", "headers", "json"}]}                   on success
//   {"case": id, "error": {"type", "code", "message", "status"}, "requests": [...]}   on failure
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const nock = require('nock')

const DESTINATIONS = {
  clay: '@segment/action-destinations/dist/destinations/clay',
  loops: '@segment/action-destinations/dist/destinations/loops',
  clevertap: '@segment/action-destinations/dist/destinations/clevertap',
  // Our own synthetic definition, to observe actions-core's payload processing per field type.
  probe: './probe-definition.cjs'
}

const core = require('@segment/actions-core')
const { Destination } = core
export { core, DESTINATIONS }

const loaded = {}
export function getDestination(name) {
  if (!DESTINATIONS[name]) throw new Error(`unknown destination ${name}`)
  if (!loaded[name]) {
    const mod = require(DESTINATIONS[name])
    const definition = mod.default ?? mod
    loaded[name] = { definition, destination: new Destination(definition) }
  }
  return loaded[name]
}

// Default mapping = each field's `default` (same as actions-core's useDefaultMappings).
function defaultMapping(fields) {
  const mapping = {}
  for (const [key, field] of Object.entries(fields)) {
    if (field.default !== undefined) mapping[key] = field.default
  }
  return mapping
}

// ---- HTTP interception: every host, every method --------------------------------------------
let captured = []
let reply = { status: 200, body: {} }
nock.disableNetConnect()
function installInterceptors() {
  const scope = nock(/.*/).persist()
  for (const method of ['get', 'post', 'put', 'patch', 'delete', 'head', 'options']) {
    scope[method](/.*/).reply(function (uri, requestBody) {
      const req = this.req
      const headers = {}
      for (const [k, v] of Object.entries(req.headers || {})) {
        headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v)
      }
      let json = null
      let raw = null
      if (requestBody !== undefined && requestBody !== '') {
        if (typeof requestBody === 'string') {
          try {
            json = JSON.parse(requestBody)
          } catch {
            raw = requestBody
          }
        } else {
          json = requestBody
        }
      }
      // basePath is e.g. "https://host:443"; URL() drops the default port.
      // new URL() drops the default port (":443") that node-fetch puts in options.host.
      const url = new URL(req.path ?? uri, `${req.options?.protocol ?? 'https:'}//${req.options?.host ?? headers.host}`).href
      const rec = { method: req.method, url, headers, json }
      if (raw !== null) rec.body = raw
      captured.push(rec)
      return [reply.status, reply.body === undefined ? {} : reply.body]
    })
  }
}
installInterceptors()

function describeError(err) {
  const out = {
    type: err?.constructor?.name ?? typeof err,
    message: err?.message ?? String(err)
  }
  if (err?.code !== undefined) out.code = err.code
  const status = err?.status ?? err?.response?.status
  if (status !== undefined) out.status = status
  return out
}

export async function runCase(c) {
  captured = []
  reply = { status: c.response?.status ?? 200, body: c.response?.body ?? {} }
  const { definition, destination } = getDestination(c.destination)
  const settings = c.settings ?? {}
  const event = c.event ?? {}
  const out = { case: c.id ?? null }
  try {
    if (c.action === '__onDelete') {
      if (!destination.onDelete) throw new Error('destination has no onDelete')
      out.result = await destination.onDelete(event, settings)
    } else if (c.action === '__testAuthentication') {
      await destination.testAuthentication(settings)
    } else {
      const action = definition.actions[c.action]
      if (!action) throw new Error(`unknown action ${c.action}`)
      const mapping = c.mapping ?? defaultMapping(action.fields)
      // Production path (Destination.onSubscriptions) validates the destination settings first.
      if (c.validateSettings !== false) {
        destination.validateSettings(destination.getDestinationSettings(settings))
      }
      await destination.executeAction(c.action, {
        event,
        mapping,
        settings,
        features: {},
        statsContext: {},
        logger: { info() {}, error() {}, warn() {}, debug() {} },
        transactionContext: {},
        stateContext: {},
        subscriptionMetadata: {}
      })
    }
    out.requests = captured
    delete out.result // results hold Response objects; not useful as fixtures
  } catch (err) {
    out.error = describeError(err)
    out.requests = captured
  }
  return out
}

