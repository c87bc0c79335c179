// Records how Segment evaluates action triggers, as the reference for actionspec's FQL.
//
// Runs `parseFql` + `validate` from @segment/destination-subscriptions (the package Segment's
// actions use) on the triggers and events below and prints JSON lines to stdout:
//   {"trigger", "event", "matches"}   Segment's verdict for one event
//   {"trigger", "error": true}        Segment cannot parse (or evaluate) the trigger
// A line with "actionspec_rejects" is a trigger Segment accepts but reads differently from
// how it looks; actionspec refuses it with a syntax error (the reason is given).
import subscriptions from '@segment/destination-subscriptions'

const { parseFql, validate } = subscriptions

const EVENTS = {
  trackOC: {
    type: 'track',
    event: 'Order Completed',
    userId: 'u1',
    properties: {
      plan: 'pro', total: 42.5, count: 3, zero: 0, empty: '', flag: true, off: false, nul: null,
      num_str: '1', one: 1, items: [{ sku: 'a' }, { sku: 'b' }], tags: ['x', 'y'],
      nested: { deep: { v: 'z' } }, 'first name': 'Ann', and: 7, emoji: '😀x', neg: -1.5
    },
    context: { device: { type: 'ios' }, ip: '1.2.3.4' }
  },
  trackOther: { type: 'track', event: 'Order Refunded', properties: { plan: 'Pro', total: '42.5', count: '3' } },
  trackNoEvent: { type: 'track' },
  trackEmptyEvent: { type: 'track', event: '', properties: {} },
  trackNullText: { type: 'track', event: 'null', properties: { plan: 'null' } },
  trackUnicode: { type: 'track', event: 'Café ☕', properties: { city: 'Zürich' } },
  trackReorder: { type: 'track', event: 'Reorder' },
  trackNumberName: { type: 'track', event: '5' },
  identify: { type: 'identify', userId: 'u2', traits: { email: 'a@example.com', age: 30, vip: true, name: 'Ann' } },
  identifyNull: { type: 'identify', userId: null, traits: null },
  page: { type: 'page', name: 'Home', properties: { name: 'Home', path: '/home' }, context: { ip: '5.6.7.8' } },
  pageNoName: { type: 'page', properties: {} },
  screen: { type: 'screen', name: null },
  group: { type: 'group', traits: { plan: 'enterprise', employees: 0 } },
  alias: { type: 'alias', userId: 123 },
  weird: {
    type: 'TRACK',
    event: 'order completed',
    properties: { plan: ['pro'], total: true, count: null, zero: '', items: 'abc', one: '1' },
    context: 'ctx'
  },
  boolProps: { type: 'track', event: 'Flag', properties: { flag: false, off: true, one: true, zero: false } },
  empty: {}
}

// [trigger, names of the events to run it on]
const ACCEPTED = [
  ['type = "track"', ['trackOC', 'identify', 'weird', 'empty']],
  ['type != "track"', ['trackOC', 'identify', 'empty']],
  ['event = "Order Completed"', ['trackOC', 'weird', 'trackNoEvent']],
  ['event != "Order Completed"', ['trackOC', 'trackOther', 'trackNoEvent']],
  ['event = ""', ['trackEmptyEvent', 'trackNoEvent']],
  ['event = "Café ☕"', ['trackUnicode', 'trackOC']],
  ['type = "track" and event = "Order Completed"', ['trackOC', 'trackOther', 'identify']],
  ['type="track" and event="Order Completed"', ['trackOC', 'trackOther']],
  ['  type = "track"\n  and event != "A"\n\tand event != "Order Refunded"  ', ['trackOC', 'trackOther', 'page']],
  ['type = "identify" or type = "page"', ['identify', 'page', 'trackOC']],
  ['event = "Order Completed" or event = "Order Refunded" or event = "Checkout Started"', ['trackOC', 'trackOther', 'trackNoEvent']],
  ['type = "track" and (event = "Order Completed" or event = "Order Refunded")', ['trackOC', 'trackOther', 'trackNoEvent', 'identify']],
  ['(type = "page" or type = "screen") and name = "Home"', ['page', 'screen', 'trackOC']],
  ['(type = "identify" and userId != null) or (type = "group")', ['identify', 'identifyNull', 'group', 'trackOC']],
  ['(type = "track") and (event = "Order Completed")', ['trackOC', 'trackOther']],
  ['type = "identify" or (type = "track" and properties.total > 40)', ['identify', 'trackOC', 'trackOther']],
  ['name = "Home"', ['page', 'screen']],
  ['name = null', ['page', 'pageNoName', 'screen', 'trackOC']],
  ['name != null', ['page', 'pageNoName', 'screen']],
  ['name != "Home"', ['page', 'pageNoName']],
  ['userId = "u1"', ['trackOC', 'alias', 'identifyNull']],
  ['userId != null', ['trackOC', 'identifyNull', 'alias']],
  ['userId = null', ['identifyNull', 'trackNoEvent']],
  ['properties.plan = "pro"', ['trackOC', 'trackOther', 'weird', 'pageNoName']],
  ['properties.plan != "pro"', ['trackOC', 'trackOther', 'pageNoName', 'empty']],
  ['properties.plan = "null"', ['trackNullText', 'pageNoName']],
  ['properties.city = "Zürich"', ['trackUnicode']],
  ['properties.total = 42.5', ['trackOC', 'trackOther', 'weird']],
  ['properties.total = 42.50', ['trackOC']],
  ['properties.count = 3', ['trackOC', 'trackOther']],
  ['properties.count = 3.0', ['trackOC']],
  ['properties.count = 03', ['trackOC']],
  ['properties.count != 3', ['trackOC', 'trackOther', 'pageNoName', 'weird']],
  ['properties.count != 4', ['trackOC', 'trackOther']],
  ['properties.num_str = 1', ['trackOC']],
  ['properties.num_str = "1"', ['trackOC']],
  ['properties.one = "1"', ['trackOC', 'weird']],
  ['properties.one = 1', ['trackOC', 'weird', 'boolProps']],
  ['properties.one = true', ['trackOC', 'boolProps']],
  ['properties.flag = true', ['trackOC', 'boolProps', 'pageNoName']],
  ['properties.flag = false', ['trackOC', 'boolProps', 'pageNoName']],
  ['properties.off = false', ['trackOC', 'boolProps']],
  ['properties.nul = null', ['trackOC']],
  ['properties.missing = null', ['trackOC', 'empty']],
  ['properties.nul != null', ['trackOC']],
  ['properties.zero != null', ['trackOC', 'weird', 'boolProps']],
  ['properties.zero = 0', ['trackOC', 'weird', 'boolProps']],
  ['properties.zero < 1', ['trackOC', 'boolProps']],
  ['properties.total > 40', ['trackOC', 'trackOther', 'weird']],
  ['properties.total >= 42.5', ['trackOC']],
  ['properties.total < 42.5', ['trackOC']],
  ['properties.total <= 42.5', ['trackOC']],
  ['properties.neg < -1', ['trackOC']],
  ['properties.neg = -1.5', ['trackOC']],
  ['properties.count > -1', ['trackOC', 'pageNoName']],
  ['properties.count <5', ['trackOC']],
  ['properties.zero.x = 0', ['trackOC']],
  ['properties.empty.x = ""', ['trackOC']],
  ['properties.off.x = false', ['trackOC']],
  ['properties.nul.x = null', ['trackOC']],
  ['properties.plan.x = null', ['trackOC']],
  ['properties.nested.deep.v = "z"', ['trackOC', 'empty']],
  ['properties.nested.deep != null', ['trackOC']],
  ['properties.nested.missing.v = null', ['trackOC']],
  ['properties.items.length = 2', ['trackOC', 'weird']],
  ['properties.items.length = 3', ['weird']],
  ['properties.items.\\0.sku = "a"', ['trackOC']],
  ['properties.items.\\1.sku = "b"', ['trackOC']],
  ['properties.items.\\2.sku = null', ['trackOC']],
  ['properties.tags.\\0 = "x"', ['trackOC']],
  ['properties.items.\\0 = "a"', ['weird']],
  ['properties.emoji.length = 3', ['trackOC']],
  ['properties.first\\ name = "Ann"', ['trackOC']],
  ['properties.\\and = 7', ['trackOC']],
  ['traits.email = "a@example.com"', ['identify', 'identifyNull', 'trackOC']],
  ['traits.age >= 18', ['identify', 'identifyNull']],
  ['traits.age < 18', ['identify']],
  ['traits.vip = true', ['identify', 'group']],
  ['traits.employees = 0', ['group', 'identify']],
  ['traits.plan != "enterprise"', ['group', 'identify', 'identifyNull']],
  ['context.device.type = "ios"', ['trackOC', 'weird', 'empty']],
  ['context.ip != null', ['trackOC', 'page', 'pageNoName']],
  ['contains(event, "Order")', ['trackOC', 'trackOther', 'trackNoEvent', 'identify', 'weird']],
  ['!contains(event, "Order")', ['trackOC', 'trackNoEvent', 'identify', 'page']],
  ['contains(properties.plan, "ro")', ['trackOC', 'trackOther', 'weird', 'pageNoName']],
  ['!contains(properties.plan, "ro")', ['trackOC', 'trackOther', 'pageNoName']],
  ['contains(properties.tags, "x")', ['trackOC']],
  ['contains(name, "om")', ['page', 'screen']],
  ['contains(userId, "u")', ['trackOC', 'alias']],
  ['contains(traits.email, "@")', ['identify', 'identifyNull']],
  ['contains(context.ip, ".")', ['trackOC']],
  ['contains(properties.plan, "")', ['trackOC', 'pageNoName']],
  ['contains (event, "Order")', ['trackOC']],
  ['match(event, "Order*")', ['trackOC', 'trackOther', 'identify', 'weird']],
  ['match(event, "*Completed")', ['trackOC', 'trackOther']],
  ['!match(event, "Order*")', ['trackOC', 'trackNoEvent', 'identify', 'trackReorder']],
  ['!match(event, "*Completed")', ['trackOther', 'trackOC']],
  ['match(properties.plan, "p*")', ['trackOC', 'trackOther']],
  ['match(name, "*")', ['page', 'screen']],
  ['match(userId, "u*")', ['alias', 'identify']],
  ['type = "track" and contains(event, "Order") and properties.total > 40', ['trackOC', 'trackOther']],
  ['type = "track" and (event = "Order Completed" or contains(event, "Refund"))', ['trackOC', 'trackOther', 'identify']],
  ['type = "track" and (contains(event, "Order"))', ['trackOC', 'page']],
  ['type = "track" and (event = "X" or !contains(event, "Order"))', ['trackOC', 'trackReorder', 'trackNoEvent']],
  ['(type = "track" or type = "page") and !match(event, "Order*")', ['trackOC', 'page', 'trackReorder']],
  ['type = "track" and event != "Order Completed" and event != "Cart Updated"', ['trackOC', 'trackOther']],
  ['type = "page" and properties.name != "Home" and properties.name != "Land"', ['page', 'pageNoName']]
]

// Triggers Segment cannot parse.
const ERRORS = [
  '',
  '   ',
  'type',
  'foo = "x"',
  'anonymousId = "a"',
  '()',
  '((type = "track"))',
  '(type = "track"',
  'type = "track" and (event = "a" or (event = "b"))',
  'event !="x"',
  'properties.n>5',
  'properties.n>=5',
  'type = "unterminated',
  'type = "a" @ event = "b"',
  'type = "a" & event = "b"',
  'properties.n = 1.',
  'properties.n = 1.2.3',
  '! contains(event, "x")',
  'type = "a" \r\nand event = "b"'
]

// [trigger, reason actionspec rejects it, events]: Segment accepts these.
const REJECTED = [
  ['type = "track" and event = "Order Completed" or type = "identify"', 'mixed and/or', ['trackOther', 'identify']],
  ['type = "identify" or type = "track" and event = "Order Completed"', 'mixed and/or', ['identify', 'trackOC']],
  ['not type = "track"', "no 'not' in FQL", ['trackOC', 'identify']],
  ['!(type = "track")', "'!' only before contains/match", ['trackOC', 'identify']],
  ['type = "track" AND event = "Order Completed"', 'uppercase keyword', ['trackOC', 'trackOther']],
  ['type = "identify" OR type = "track"', 'uppercase keyword', ['trackOC', 'identify']],
  ['type = track', 'unquoted text', ['trackOC']],
  ['event == "Order Completed"', "'=='", ['trackOC']],
  ['type = "track", event = "Order Completed"', "',' between conditions", ['trackOC', 'trackOther']],
  ['type = "track" event = "Order Completed"', 'no connective', ['trackOC', 'trackOther']],
  ['type = "track" or', 'trailing connective', ['trackOC']],
  ['foo = "x" and type = "track"', 'unknown field', ['trackOC']],
  ['properties.flag != true', "'!= true'", ['trackOC', 'boolProps']],
  ['event = null', 'null on event', ['trackNoEvent', 'trackNullText']],
  ['event = 5', 'number on event', ['trackNumberName']],
  ['type = "track" or(type = "identify")', "no space after 'or'", ['trackOC', 'identify']],
  ['(contains(event, "Order") or type = "x") and type = "track"', 'call not last in parentheses', ['trackOC']],
  ['match(event, "Order")', 'pattern without *', ['trackOC', 'trackReorder']],
  ['match(event, "*rder*")', 'pattern with two *', ['trackOC']],
  ['type = "track" and contains(type, "zzz")', 'contains() on type', ['trackOC']],
  ['type.x = "track"', 'sub-field of type', ['trackOC']],
  ["event = 'Order Completed'", 'single quotes', ['trackOC']],
  ['properties.count >=3', "no space after '>='", ['trackOC']],
  ['properties.total < "50"', "'<' with a string", ['trackOC']],
  ['properties.and = 7', 'unescaped keyword as key', ['trackOC']],
  ['properties = "x"', 'properties without a key', ['trackOC']],
  ['type = "track"and event = "x"', 'no space after a string', ['trackOC']],
  ['type = "track" and event = "a" or', 'trailing connective', ['trackOC']],
  ['properties.count = 1 and or event = "x"', 'two connectives', ['trackOC']],
  ['userId = true', 'boolean on userId', ['trackOC']],
  ['(type = "track") or', 'trailing connective', ['trackOC']],
  ['type = "track")', 'unbalanced parenthesis', ['trackOC']],
  ['type = "track"\r\nand event = "x"', 'carriage return', ['trackOC']]
]

function verdict (trigger, event) {
  const ast = parseFql(trigger)
  if (ast.error) return { error: true }
  try {
    return { matches: validate(ast, event) }
  } catch (error) {
    return { error: true }
  }
}

const lines = []
const emit = (line) => lines.push(JSON.stringify(line))

for (const [trigger, names] of ACCEPTED) {
  for (const name of names) {
    const event = EVENTS[name]
    const result = verdict(trigger, event)
    if (result.error) throw new Error(`expected Segment to accept ${JSON.stringify(trigger)}`)
    emit({ trigger, event, matches: result.matches })
  }
}
for (const trigger of ERRORS) {
  if (!verdict(trigger, EVENTS.trackOC).error) throw new Error(`expected an error: ${JSON.stringify(trigger)}`)
  emit({ trigger, error: true })
}
for (const [trigger, reason, names] of REJECTED) {
  for (const name of names) {
    const event = EVENTS[name]
    const result = verdict(trigger, event)
    if (result.error) throw new Error(`expected Segment to accept ${JSON.stringify(trigger)}`)
    emit({ trigger, event, matches: result.matches, actionspec_rejects: reason })
  }
}
process.stdout.write(lines.join('\n') + '\n')
