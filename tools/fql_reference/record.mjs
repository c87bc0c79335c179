// Records how Segment evaluates action triggers, as the reference for actionspec's FQL.
//
// Runs `parseFql` + `validate` from @segment/destination-subscriptions (the package Segment's
// actions use) on the triggers and events below and prints JSON lines to stdout:
//   {"trigger", "event", "matches"}      Segment's verdict; actionspec must give the same
//   {"trigger", "error": true}           Segment cannot parse (or evaluate) the trigger;
//                                        actionspec must reject it too
//   {"trigger", "event", "matches", "actionspec_rejects": why}
//                                        Segment accepts it but reads it differently from how
//                                        it looks; actionspec refuses it with a syntax error
//   {"trigger", "event", "extension": why, "segment": true|false|"error", "expected"}
//                                        an actionspec extension; "expected" is its meaning,
//                                        computed from Segment's verdicts on plain triggers
//   {"javascript_members": {...}}        the built-in member names a path can reach
//   {"meta": {...}}                      versions used
// Events listed in RAW_EVENTS are written as their JSON text (big integers stay exact there).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
// The packages pinned in package.json, or the copies installed for tools/segment_reference.
function load (name) {
  try {
    return require(name)
  } catch {
    return require(`../segment_reference/node_modules/${name}`)
  }
}
const subscriptions = load('@segment/destination-subscriptions')
const { parseFql, validate } = subscriptions.default ?? subscriptions

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
  trackQuoted: { type: 'track', event: 'Ignored "quoted"', properties: { quote: 'say "hi"' } },
  trackBackslash: { type: 'track', event: 'C:\\dir\\n', properties: { path: 'a\\b' } },
  trackKeywordKeys: { type: 'track', properties: { and: { b: 1 }, or: 2, null: 3, not: 4, true: 5 } },
  trackBuiltins: {
    type: 'track',
    event: 'Builtins',
    properties: { s: 'pro', arr: [1, 2], n: 5, zero: 0, obj: {}, t: true, search: 'q' },
    context: { page: 'home' }
  },
  identify: { type: 'identify', userId: 'u2', traits: { email: 'a@example.com', age: 30, vip: true, name: 'Ann' } },
  identifyNull: { type: 'identify', userId: null, traits: null },
  identifyBoolUser: { type: 'identify', userId: true },
  page: { type: 'page', name: 'Home', properties: { name: 'Home', path: '/home' }, context: { ip: '5.6.7.8', page: { search: '?q=1' } } },
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

// JSON texts: JavaScript rounds integers beyond 2**53 (and overflows huge ones to Infinity)
// while Python keeps them exact, so these must reach the Python side unparsed.
const RAW_EVENTS = {
  bigNumbers: '{"type":"track","properties":{"big":9007199254740993,"negbig":-9007199254740993,' +
    `"huge":1${'0'.repeat(400)},"small":1e-7,"exp":1E2,"neg0":-0}}`
}
for (const [name, text] of Object.entries(RAW_EVENTS)) EVENTS[name] = JSON.parse(text)

// [trigger, names of the events to run it on]
const ACCEPTED = [
  // type, event, name, userId; = and !=
  ['type = "track"', ['trackOC', 'identify', 'weird', 'empty']],
  ['type != "track"', ['trackOC', 'identify', 'empty']],
  ['event = "Order Completed"', ['trackOC', 'weird', 'trackNoEvent']],
  ['event != "Order Completed"', ['trackOC', 'trackOther', 'trackNoEvent']],
  ['event = ""', ['trackEmptyEvent', 'trackNoEvent']],
  ['event = "Café ☕"', ['trackUnicode', 'trackOC']],
  ['event = "5"', ['trackNumberName', 'trackOC']],
  ['event = "null"', ['trackNullText', 'trackNoEvent']],
  ['name = "Home"', ['page', 'screen']],
  ['name = null', ['page', 'pageNoName', 'screen', 'trackOC']],
  ['name != null', ['page', 'pageNoName', 'screen']],
  ['name != "Home"', ['page', 'pageNoName']],
  ['userId = "u1"', ['trackOC', 'alias', 'identifyNull']],
  ['userId != null', ['trackOC', 'identifyNull', 'alias']],
  ['userId = null', ['identifyNull', 'trackNoEvent']],
  ['userId = true', ['identifyBoolUser', 'trackOC', 'alias']],
  ['userId = false', ['identifyBoolUser', 'identifyNull']],
  ['userId >= 123', ['alias', 'trackOC', 'identifyBoolUser']],
  ['userId < 100', ['alias', 'trackOC']],
  ['userId = "123"', ['alias']],
  // and, or, parentheses (one level)
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
  // properties, traits, context: literals of every kind, across types
  ['properties.plan = "pro"', ['trackOC', 'trackOther', 'weird', 'pageNoName']],
  ['properties.plan != "pro"', ['trackOC', 'trackOther', 'pageNoName', 'empty']],
  ['properties.plan = "null"', ['trackNullText', 'pageNoName']],
  ['properties.city = "Zürich"', ['trackUnicode']],
  ['properties.total = 42.5', ['trackOC', 'trackOther', 'weird']],
  ['properties.total = 42.50', ['trackOC']],
  ['properties.count = 3', ['trackOC', 'trackOther']],
  ['properties.count = "3"', ['trackOC', 'trackOther']],
  ['properties.count = 3.0', ['trackOC']],
  ['properties.count = 03', ['trackOC']],
  ['properties.count = +3', ['trackOC']],
  ['properties.count != 3', ['trackOC', 'trackOther', 'pageNoName', 'weird']],
  ['properties.count != 4', ['trackOC', 'trackOther']],
  ['properties.count != "3"', ['trackOC', 'trackOther', 'pageNoName']],
  ['properties.num_str = 1', ['trackOC']],
  ['properties.num_str = "1"', ['trackOC']],
  ['properties.one = "1"', ['trackOC', 'weird']],
  ['properties.one = 1', ['trackOC', 'weird', 'boolProps']],
  ['properties.one = true', ['trackOC', 'boolProps']],
  ['properties.flag = true', ['trackOC', 'boolProps', 'pageNoName']],
  ['properties.flag = false', ['trackOC', 'boolProps', 'pageNoName']],
  ['properties.flag = "true"', ['trackOC']],
  ['properties.flag = 1', ['trackOC']],
  ['properties.off = false', ['trackOC', 'boolProps']],
  ['properties.off = 0', ['trackOC']],
  ['properties.nul = null', ['trackOC']],
  ['properties.nul = "null"', ['trackOC']],
  ['properties.missing = null', ['trackOC', 'empty']],
  ['properties.nul != null', ['trackOC']],
  ['properties.empty = null', ['trackOC']],
  ['properties.empty != null', ['trackOC']],
  ['properties.zero != null', ['trackOC', 'weird', 'boolProps']],
  ['properties.zero = 0', ['trackOC', 'weird', 'boolProps']],
  ['properties.zero = -0', ['trackOC']],
  ['properties.zero = false', ['trackOC', 'boolProps']],
  ['properties.zero < 1', ['trackOC', 'boolProps']],
  ['properties.total > 40', ['trackOC', 'trackOther', 'weird']],
  ['properties.total >= 42.5', ['trackOC']],
  ['properties.total < 42.5', ['trackOC']],
  ['properties.total <= 42.5', ['trackOC']],
  ['properties.total <= 42', ['trackOC']],
  ['properties.neg < -1', ['trackOC']],
  ['properties.neg = -1.5', ['trackOC']],
  ['properties.count > -1', ['trackOC', 'pageNoName']],
  ['properties.count <5', ['trackOC']],
  ['properties.big = 9007199254740992', ['bigNumbers']],
  ['properties.big = 9007199254740993', ['bigNumbers']],
  ['properties.big > 9007199254740992', ['bigNumbers']],
  ['properties.negbig < -9007199254740992', ['bigNumbers']],
  ['properties.negbig = -9007199254740992', ['bigNumbers']],
  ['properties.huge > 1000000', ['bigNumbers']],
  ['properties.huge = 1000000', ['bigNumbers']],
  ['properties.small = 0.0000001', ['bigNumbers']],
  ['properties.small > 0', ['bigNumbers']],
  ['properties.exp = 100', ['bigNumbers']],
  ['properties.neg0 = 0', ['bigNumbers']],
  ['traits.email = "a@example.com"', ['identify', 'identifyNull', 'trackOC']],
  ['traits.age >= 18', ['identify', 'identifyNull']],
  ['traits.age < 18', ['identify']],
  ['traits.vip = true', ['identify', 'group']],
  ['traits.employees = 0', ['group', 'identify']],
  ['traits.plan != "enterprise"', ['group', 'identify', 'identifyNull']],
  ['context.device.type = "ios"', ['trackOC', 'weird', 'empty']],
  ['context.ip != null', ['trackOC', 'page', 'pageNoName']],
  // paths: nesting, falsy values on the way, arrays, strings, escapes, keyword keys
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
  ['properties.emoji.\\2 = "x"', ['trackOC']],
  ['properties.emoji.\\0 = "😀"', ['trackOC']],
  ['properties.first\\ name = "Ann"', ['trackOC']],
  ['properties.\\and = 7', ['trackOC']],
  ['properties.and.b = 1', ['trackKeywordKeys']],
  ['properties.\\and.b = 1', ['trackKeywordKeys']],
  ['properties.\\or = 2', ['trackKeywordKeys']],
  ['properties.\\null = 3', ['trackKeywordKeys']],
  ['properties.not = 4', ['trackKeywordKeys']],
  ['properties.true = 5', ['trackKeywordKeys']],
  // JavaScript methods found on strings, arrays and numbers
  ['properties.s.at != null', ['trackBuiltins']],
  ['properties.s.search = null', ['trackBuiltins']],
  ['properties.s.search != "x"', ['trackBuiltins']],
  ['properties.s.length = 3', ['trackBuiltins']],
  ['properties.s.\\0 = "p"', ['trackBuiltins']],
  ['properties.s.at.x = null', ['trackBuiltins']],
  ['properties.arr.map != null', ['trackBuiltins']],
  ['properties.arr.join = null', ['trackBuiltins']],
  ['properties.n.toFixed != null', ['trackBuiltins']],
  ['properties.n.toFixed.x = null', ['trackBuiltins']],
  ['properties.arr.map.x != null', ['trackBuiltins']],
  ['properties.zero.toFixed = 0', ['trackBuiltins']],
  ['properties.obj.map = null', ['trackBuiltins']],
  ['properties.t.x = null', ['trackBuiltins']],
  ['properties.search = "q"', ['trackBuiltins']],
  ['context.page.search = null', ['trackBuiltins', 'page']],
  ['context.page.search != null', ['trackBuiltins', 'page', 'trackOC']],
  // strings: backslashes are themselves
  ['event = "C:\\dir\\n"', ['trackBackslash', 'trackOC']],
  ['contains(properties.path, "a\\b")', ['trackBackslash']],
  ['properties.path = "a\\b"', ['trackBackslash']],
  ['type = "track" and event != "Ignored"', ['trackQuoted']],
  // contains() and match(), plain and negated
  ['contains(event, "Order")', ['trackOC', 'trackOther', 'trackNoEvent', 'identify', 'weird']],
  ['!contains(event, "Order")', ['trackOC', 'trackNoEvent', 'identify', 'page']],
  ['contains(properties.plan, "ro")', ['trackOC', 'trackOther', 'weird', 'pageNoName']],
  ['!contains(properties.plan, "ro")', ['trackOC', 'trackOther', 'pageNoName']],
  ['contains(properties.tags, "x")', ['trackOC']],
  ['contains(properties.count, "3")', ['trackOC', 'trackOther']],
  ['!contains(properties.count, "3")', ['trackOC', 'trackOther']],
  ['contains(name, "om")', ['page', 'screen']],
  ['contains(userId, "u")', ['trackOC', 'alias']],
  ['contains(traits.email, "@")', ['identify', 'identifyNull']],
  ['contains(context.ip, ".")', ['trackOC']],
  ['contains(properties.plan, "")', ['trackOC', 'pageNoName']],
  ['contains (event, "Order")', ['trackOC']],
  ['contains(event, "é ☕")', ['trackUnicode']],
  ['contains(properties.emoji, "😀")', ['trackOC']],
  ['match(event, "Order*")', ['trackOC', 'trackOther', 'identify', 'weird']],
  ['match(event, "*Completed")', ['trackOC', 'trackOther']],
  ['!match(event, "Order*")', ['trackOC', 'trackNoEvent', 'identify', 'trackReorder']],
  ['!match(event, "*Completed")', ['trackOther', 'trackOC']],
  ['match(properties.plan, "p*")', ['trackOC', 'trackOther']],
  ['match(name, "*")', ['page', 'screen']],
  ['match(userId, "u*")', ['alias', 'identify']],
  ['!match(properties.missing, "a*")', ['trackOC']],
  ['match(properties.emoji, "*x")', ['trackOC']],
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
  'not',
  'foo = "x"',
  'anonymousId = "a"',
  'Type = "track"',
  '"track" = type',
  '()',
  '(type = "track"',
  'event !="x"',
  'properties.n>5',
  'properties.n>=5',
  'type = "unterminated',
  'type = "a" @ event = "b"',
  'type = "a" & event = "b"',
  'properties.n = 1.',
  'properties.n = 1.2.3',
  'properties.items[0] = "a"',
  '! contains(event, "x")',
  'type = "a" \r\nand event = "b"'
]

// [trigger, why actionspec rejects it, events]: Segment accepts these.
const REJECTED = [
  ['type = "track" and event = "Order Completed" or type = "identify"', 'mixed and/or', ['trackOther', 'identify']],
  ['type = "identify" or type = "track" and event = "Order Completed"', 'mixed and/or', ['identify', 'trackOC']],
  ['!(type = "track")', "'!' only before contains/match", ['trackOC', 'identify']],
  ['!type = "track"', "'!' only before contains/match", ['trackOC', 'identify']],
  ['type = "track" AND event = "Order Completed"', 'uppercase keyword', ['trackOC', 'trackOther']],
  ['type = "identify" OR type = "track"', 'uppercase keyword', ['trackOC', 'identify']],
  ['NOT type = "track"', 'uppercase keyword', ['trackOC', 'identify']],
  ['properties.flag = TRUE', 'uppercase keyword', ['trackOC']],
  ['CONTAINS(event, "Order")', 'uppercase function', ['trackOC']],
  ['type = track', 'unquoted text', ['trackOC']],
  ['event == "Order Completed"', "'=='", ['trackOC']],
  ['type = "track", event = "Order Completed"', "',' between conditions", ['trackOC', 'trackOther']],
  ['type = "track" event = "Order Completed"', 'no connective', ['trackOC', 'trackOther']],
  ['type = "track" or', 'trailing connective', ['trackOC']],
  ['type = "track" and not', "trailing 'not'", ['trackOC']],
  ['foo = "x" and type = "track"', 'unknown field', ['trackOC']],
  ['properties.flag != true', "'!= true'", ['trackOC', 'boolProps']],
  ['userId != true', "'!= true'", ['identifyBoolUser', 'trackOC']],
  ['event = null', 'null on event', ['trackNoEvent', 'trackNullText']],
  ['type = null', 'null on type', ['trackOC']],
  ['event = 5', 'number on event', ['trackNumberName']],
  ['userId = 123', 'number compared as text', ['alias']],
  ['name = true', 'boolean on name', ['page']],
  ['properties.sku exists', 'no exists', ['trackOC', 'empty']],
  ['properties.plan exists or type = "x"', 'no exists', ['trackOC', 'empty']],
  ['properties.n = 1e5', 'exponent', ['trackOC']],
  ['type = "track" or(type = "identify")', "no space after 'or'", ['trackOC', 'identify']],
  ['(type = "track" or type = "page")or(event = "x")', "'or(' is an unknown word to Segment", ['trackOC', 'page']],
  ['(type = "track")and(event = "Order Completed")', "'and(' is an unknown word to Segment", ['trackOC']],
  ['(contains(event, "Order") or type = "x") and type = "track"', 'call not last in parentheses', ['trackOC']],
  ['contains(event, "Order"', 'unclosed call', ['trackOC']],
  ['match(event, "Order")', 'pattern without *', ['trackOC', 'trackReorder']],
  ['match(event, "*rder*")', 'pattern with two *', ['trackOC']],
  ['type = "track" and contains(type, "zzz")', 'contains() on type', ['trackOC']],
  ['contains(event, 5)', 'number as text', ['trackNumberName']],
  ['type.x = "track"', 'sub-field of type', ['trackOC']],
  ["event = 'Order Completed'", 'single quotes', ['trackOC']],
  ['event = "C:\\"', 'string ending in a backslash', ['trackOC']],
  ['properties.count >=3', "no space after '>='", ['trackOC']],
  ['properties.total < "50"', "'<' with a string", ['trackOC']],
  ['properties.and = 7', 'unescaped keyword as key', ['trackOC']],
  ['properties.toString = null', 'member of every object', ['trackOC', 'empty']],
  ['properties.constructor != null', 'member of every object', ['trackOC']],
  ['properties = "x"', 'properties without a key', ['trackOC']],
  ['type = "track"and event = "x"', 'no space after a string', ['trackOC']],
  ['type = "track" and event = "a" or', 'trailing connective', ['trackOC']],
  ['properties.count = 1 and or event = "x"', 'two connectives', ['trackOC']],
  ['(type = "track") or', 'trailing connective', ['trackOC']],
  ['type = "track")', 'unbalanced parenthesis', ['trackOC']],
  ['type = "track"\r\nand event = "x"', 'carriage return', ['trackOC']]
]

// [trigger, what it extends, events, meaning(v, event)]: `v(trigger)` is Segment's verdict
// for a plain trigger on the same event, so every expected value rests on Segment.
const EXTENSIONS = [
  ['not type = "track"', 'not', ['trackOC', 'identify', 'empty'], (v) => !v('type = "track"')],
  ['not (type = "track" or type = "page")', 'not', ['trackOC', 'page', 'identify'], (v) => !v('type = "track" or type = "page"')],
  ['type = "track" and not contains(event, "Order")', 'not', ['trackOC', 'trackReorder', 'trackNoEvent'],
    (v) => v('type = "track"') && !v('contains(event, "Order")')],
  ['not !contains(event, "Order")', 'not', ['trackOC', 'trackNoEvent', 'trackReorder'], (v) => !v('!contains(event, "Order")')],
  ['not properties.total > 40', 'not', ['trackOC', 'trackOther', 'pageNoName'], (v) => !v('properties.total > 40')],
  ['not properties.plan = null', 'not', ['trackOC', 'pageNoName'], (v) => !v('properties.plan = null')],
  ['not(name = "Home")', 'not', ['page', 'screen'], (v) => !v('name = "Home"')],
  ['not not type = "track"', 'not', ['trackOC', 'identify'], (v) => v('type = "track"')],
  ['(type = "identify" or not type = "track") and userId != null', 'not', ['identify', 'trackOC', 'alias'],
    (v) => (v('type = "identify"') || !v('type = "track"')) && v('userId != null')],
  ['((type = "track"))', 'nested parentheses', ['trackOC', 'identify'], (v) => v('type = "track"')],
  ['type = "track" and (event = "A" or (properties.total > 40 and properties.plan = "pro"))', 'nested parentheses',
    ['trackOC', 'trackOther', 'identify'],
    (v) => v('type = "track"') && (v('event = "A"') || v('properties.total > 40 and properties.plan = "pro"'))],
  ['(type = "page" or (type = "track" and contains(event, "Order")))', 'nested parentheses',
    ['page', 'trackOC', 'trackReorder', 'identify'],
    (v) => v('type = "page"') || v('type = "track" and contains(event, "Order")')],
  ['type = "track" and event != "Ignored \\"quoted\\""', 'quote in a string', ['trackQuoted', 'trackOC'],
    (v, e) => v('type = "track"') && e.event !== 'Ignored "quoted"'],
  ['contains(properties.quote, "\\"hi\\"")', 'quote in a string', ['trackQuoted', 'trackOC'],
    (v, e) => typeof e.properties?.quote === 'string' && e.properties.quote.includes('"hi"')],
  ['match(event, "Ignored \\"*")', 'quote in a string', ['trackQuoted', 'trackOC'],
    (v, e) => typeof e.event === 'string' && e.event.startsWith('Ignored "')]
]

// The documented examples of actionspec's spec reference (triggers.GUIDE), on the event each
// must match and the one it must miss (extensions are checked by the tests alone).
const GUIDE = [
  ['type = "track"', { type: 'track', event: 'Order Completed' }, { type: 'identify' }],
  ['event = "Order Completed"', { type: 'track', event: 'Order Completed' }, { type: 'track', event: 'order completed' }],
  ['event != "Order Completed"', { type: 'track' }, { type: 'track', event: 'Order Completed' }],
  ['context.device.type = "ios"', { context: { device: { type: 'ios' } } }, { context: { device: 'ios' } }],
  ['properties.first\\ name = "Ann"', { properties: { 'first name': 'Ann' } }, { properties: { first: 'Ann' } }],
  ['properties.total >= 100', { properties: { total: 120.5 } }, { properties: { total: '120.5' } }],
  ['traits.vip = true', { traits: { vip: true } }, { traits: { vip: 'true' } }],
  ['properties.coupon = null', { properties: { coupon: null } }, { properties: { coupon: '' } }],
  ['contains(event, "Order")', { type: 'track', event: 'Order Completed' }, { type: 'track', event: 'Signed Up' }],
  ['match(properties.email, "*@example.com")', { properties: { email: 'ann@example.com' } }, { properties: { email: 'a@example.org' } }],
  ['!contains(properties.plan, "trial")', { properties: { plan: 'pro' } }, { properties: {} }],
  ['type = "identify" or type = "group"', { type: 'group' }, { type: 'track' }],
  ['type = "track" and (event = "Order Completed" or event = "Order Refunded")', { type: 'track', event: 'Order Completed' },
    { type: 'track', event: 'Cart Viewed' }]
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

function plainVerdict (event) {
  return (trigger) => {
    const result = verdict(trigger, event)
    if (result.error) throw new Error(`expected Segment to accept ${JSON.stringify(trigger)}`)
    return result.matches
  }
}

const lines = []
const emit = (line, eventName) => {
  let text = JSON.stringify(line)
  if (eventName in RAW_EVENTS) {
    text = text.replace(JSON.stringify(line.event), RAW_EVENTS[eventName])
  }
  lines.push(text)
}

const own = (prototype) => Object.getOwnPropertyNames(prototype).sort()
lines.push(JSON.stringify({
  meta: {
    node: process.version,
    '@segment/destination-subscriptions': load('@segment/destination-subscriptions/package.json').version,
    '@segment/fql-ts': load('@segment/fql-ts/package.json').version
  }
}))
lines.push(JSON.stringify({
  javascript_members: {
    object: own(Object.prototype),
    array: own(Array.prototype),
    string: own(String.prototype),
    number: own(Number.prototype),
    boolean: own(Boolean.prototype)
  }
}))

for (const [trigger, names] of ACCEPTED) {
  for (const name of names) {
    const event = EVENTS[name]
    emit({ trigger, event, matches: plainVerdict(event)(trigger) }, name)
  }
}
for (const [trigger, matching, missing] of GUIDE) {
  if (!plainVerdict(matching)(trigger) || plainVerdict(missing)(trigger)) {
    throw new Error(`the documented example ${JSON.stringify(trigger)} is wrong in Segment`)
  }
  emit({ trigger, event: matching, matches: true, guide: true })
  emit({ trigger, event: missing, matches: false, guide: true })
}
for (const trigger of ERRORS) {
  if (!verdict(trigger, EVENTS.trackOC).error) throw new Error(`expected an error: ${JSON.stringify(trigger)}`)
  emit({ trigger, error: true })
}
for (const [trigger, reason, names] of REJECTED) {
  for (const name of names) {
    const event = EVENTS[name]
    emit({ trigger, event, matches: plainVerdict(event)(trigger), actionspec_rejects: reason }, name)
  }
}
for (const [trigger, reason, names, meaning] of EXTENSIONS) {
  for (const name of names) {
    const event = EVENTS[name]
    const segment = verdict(trigger, event)
    const expected = meaning(plainVerdict(event), event)
    emit({ trigger, event, extension: reason, segment: segment.error ? 'error' : segment.matches, expected }, name)
  }
}
process.stdout.write(lines.join('\n') + '\n')
