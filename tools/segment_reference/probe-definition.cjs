// A synthetic destination definition written by us (not from Segment) whose only purpose is to
// observe how @segment/actions-core processes payloads for each field type/option:
// every field is mapped from $.properties.<key>, and perform echoes the validated payload as JSON.
const F = (def) => ({ label: def.key, description: `probe ${def.key}`, default: { '@path': `$.properties.${def.key}` }, ...def })
const specs = [
  { key: 's', type: 'string' },
  { key: 'n', type: 'number' },
  { key: 'i', type: 'integer' },
  { key: 'b', type: 'boolean' },
  { key: 'dt', type: 'datetime' },
  { key: 'dtf', type: 'string', format: 'date-time' },
  { key: 'd', type: 'string', format: 'date' },
  { key: 'email', type: 'string', format: 'email' },
  { key: 'uri', type: 'string', format: 'uri' },
  { key: 'uuid', type: 'string', format: 'uuid' },
  { key: 'txt', type: 'text' },
  { key: 'pwd', type: 'password' },
  { key: 'multi_s', type: 'string', multiple: true },
  { key: 'multi_n', type: 'number', multiple: true },
  { key: 'obj_open', type: 'object' },
  { key: 'obj_props', type: 'object', properties: { a: { label: 'a', type: 'string' }, n: { label: 'n', type: 'number' }, b: { label: 'b', type: 'boolean' } } },
  { key: 'obj_closed', type: 'object', additionalProperties: false, properties: { a: { label: 'a', type: 'string' }, n: { label: 'n', type: 'number' } } },
  { key: 'obj_addl_true', type: 'object', additionalProperties: true, properties: { a: { label: 'a', type: 'string' }, n: { label: 'n', type: 'number' } } },
  { key: 'obj_multi', type: 'object', multiple: true, properties: { a: { label: 'a', type: 'string' }, n: { label: 'n', type: 'number' } } },
  { key: 's_null', type: 'string', allowNull: true },
  { key: 'n_null', type: 'number', allowNull: true },
  { key: 'choice', type: 'string', choices: ['red', 'green'] },
  { key: 'len', type: 'string', minimum: 2, maximum: 5 },
  { key: 'req', type: 'string', required: true }
]
const fields = Object.fromEntries(specs.map((s) => [s.key, F(s)]))
module.exports = {
  name: 'Probe (actionspec)',
  slug: 'actionspec-probe',
  mode: 'cloud',
  authentication: { scheme: 'custom', fields: {} },
  actions: {
    echo: {
      title: 'Echo',
      description: 'Sends the validated payload as the JSON body',
      fields,
      perform: (request, { payload }) => request('https://probe.example/echo', { method: 'post', json: payload })
    }
  }
}
