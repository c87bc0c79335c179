"""Writes tests/segment_reference/cases.jsonl (hand-written input cases for the reference harness).
Run: python3 tools/segment_reference/make_cases.py, then tools/segment_reference/record.sh."""
import os
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "segment_reference", "cases.jsonl")
import json, copy
CLAY = {"connection_key":"ck_123","secret_key":"sk_secret"}
LOOPS = {"apiKey":"loops_key"}
CT = {"clevertapAccountId":"acc","clevertapPasscode":"pass","clevertapEndpoint":"https://eu1.api.clevertap.com"}
cases=[]
def add(id, dest, action, event, settings, **kw):
    c={"id":id,"destination":dest,"action":action,"event":event,"settings":settings}
    c.update(kw); cases.append(c)

FULL_CTX = {"ip":"203.0.113.5","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
  "locale":"en-US","library":{"name":"analytics.js","version":"next-1.64.0"},
  "page":{"path":"/pricing","referrer":"https://www.google.com/","search":"?plan=pro","title":"Pricing - Acme","url":"https://acme.example.com/pricing?plan=pro"}}
TRACK_FULL = {"type":"track","event":"Plan Selected","messageId":"ajs-msg-0001","timestamp":"2024-03-05T10:20:30.123Z",
  "sentAt":"2024-03-05T10:20:30.200Z","receivedAt":"2024-03-05T10:20:31.000Z","originalTimestamp":"2024-03-05T10:20:30.100Z",
  "userId":"user-42","anonymousId":"anon-42","context":FULL_CTX,"properties":{"plan":"pro","seats":5,"annual":True}}
PAGE_FULL = {"type":"page","name":"Pricing","messageId":"ajs-msg-0002","timestamp":"2024-03-05T10:21:00.000Z",
  "userId":"user-42","anonymousId":"anon-42","context":FULL_CTX,"properties":{"path":"/pricing","title":"Pricing - Acme","url":"https://acme.example.com/pricing?plan=pro"}}
MIN_TRACK = {"type":"track","event":"Test Event","messageId":"msg-min-1","context":{"ip":"8.8.8.8"}}
MIN_PAGE = {"type":"page","messageId":"msg-min-2","context":{"ip":"8.8.8.8"}}

def ev(base, **changes):
    e=copy.deepcopy(base)
    for k,v in changes.items():
        path=k.split("__"); o=e
        for p in path[:-1]: o=o.setdefault(p,{})
        if v is DEL: o.pop(path[-1],None)
        else: o[path[-1]]=v
    return e
DEL=object()

for act, FULL, MIN in (("track",TRACK_FULL,MIN_TRACK),("pageVisit",PAGE_FULL,MIN_PAGE)):
    p="clay."+act+"."
    add(p+"full","clay",act,FULL,CLAY)
    add(p+"minimal","clay",act,MIN,CLAY)
    add(p+"empty_top_strings","clay",act,ev(FULL,context__userAgent="",userId="",anonymousId=""),CLAY)
    add(p+"empty_page_strings","clay",act,ev(FULL,context__page__title="",context__page__referrer="",context__page__search=""),CLAY)
    add(p+"empty_properties","clay",act,ev(FULL,properties={}),CLAY)
    add(p+"empty_ip","clay",act,ev(FULL,context__ip=""),CLAY)
    add(p+"empty_messageId","clay",act,ev(FULL,messageId=""),CLAY)
    add(p+"null_userId","clay",act,ev(FULL,userId=None),CLAY)
    add(p+"null_page","clay",act,ev(FULL,context__page=None),CLAY)
    add(p+"null_timestamp","clay",act,ev(FULL,timestamp=None),CLAY)
    add(p+"null_page_title","clay",act,ev(FULL,context__page__title=None),CLAY)
    add(p+"null_properties","clay",act,ev(FULL,properties=None),CLAY)
    add(p+"null_ip","clay",act,ev(FULL,context__ip=None),CLAY)
    add(p+"numbers_for_strings","clay",act,ev(FULL,userId=123,context__ip=5,anonymousId=0,messageId=987654321),CLAY)
    add(p+"booleans_for_strings","clay",act,ev(FULL,userId=True,anonymousId=False,context__userAgent=True),CLAY)
    add(p+"number_in_page","clay",act,ev(FULL,context__page__title=42,context__page__path=False),CLAY)
    add(p+"page_undeclared_keys","clay",act,ev(FULL,context__page__tab="billing",context__page__nested={"x":1}),CLAY)
    add(p+"properties_array","clay",act,ev(FULL,properties=[1,2]),CLAY)
    add(p+"properties_string","clay",act,ev(FULL,properties="plan=pro"),CLAY)
    add(p+"page_array","clay",act,ev(FULL,context__page=["/a","/b"]),CLAY)
    add(p+"missing_ip","clay",act,ev(FULL,context__ip=DEL),CLAY)
    add(p+"missing_messageId","clay",act,ev(FULL,messageId=DEL),CLAY)
    add(p+"missing_ip_and_messageId","clay",act,ev(FULL,messageId=DEL,context__ip=DEL),CLAY)
    add(p+"unicode_long","clay",act,ev(FULL,userId="usér-ñ-日本-😀",context__page__title="Ünïcödé — 日本語 🚀 "+"x"*2000,properties={"note":"ß"*500,"emoji":"👍🏽"}),CLAY)
    add(p+"timestamp_unix_seconds","clay",act,ev(FULL,timestamp=1709634030),CLAY)
    add(p+"timestamp_unix_millis","clay",act,ev(FULL,timestamp=1709634030123),CLAY)
    add(p+"timestamp_invalid_string","clay",act,ev(FULL,timestamp="not a date"),CLAY)
    add(p+"timestamp_date_only","clay",act,ev(FULL,timestamp="2024-03-05"),CLAY)
    add(p+"timestamp_no_tz","clay",act,ev(FULL,timestamp="2024-03-05T10:20:30"),CLAY)
    add(p+"timestamp_offset","clay",act,ev(FULL,timestamp="2024-03-05T12:20:30+02:00"),CLAY)
    add(p+"nested_properties","clay",act,ev(FULL,properties={"cart":{"items":[{"sku":"A1","qty":2,"tags":["x",None]}],"empty":"","nothing":None},"top_empty":"","top_null":None}),CLAY)
    add(p+"ip_object","clay",act,ev(FULL,context__ip={"v4":"1.2.3.4"}),CLAY)
    add(p+"userAgent_single_array","clay",act,ev(FULL,context__userAgent=["UA-1"]),CLAY)
    add(p+"userAgent_multi_array","clay",act,ev(FULL,context__userAgent=["UA-1","UA-2"]),CLAY)
    if act=="track":
        add(p+"missing_event","clay",act,ev(FULL,event=DEL),CLAY)
        add(p+"empty_event","clay",act,ev(FULL,event=""),CLAY)
        add(p+"number_event","clay",act,ev(FULL,event=42),CLAY)
    else:
        add(p+"no_name","clay",act,ev(FULL,name=DEL),CLAY)
        add(p+"empty_name","clay",act,ev(FULL,name=""),CLAY)
        add(p+"null_name","clay",act,ev(FULL,name=None),CLAY)
# mapping variants (track only)
TRACK_MAP = None  # filled from definitions at runtime: use explicit mapping
base_map = {"event":{"@path":"$.event"},"timestamp":{"@path":"$.timestamp"},
 "page":{"path":{"@path":"$.context.page.path"},"referrer":{"@path":"$.context.page.referrer"},"search":{"@path":"$.context.page.search"},"title":{"@path":"$.context.page.title"},"url":{"@path":"$.context.page.url"}},
 "ip":{"@path":"$.context.ip"},"userAgent":{"@path":"$.context.userAgent"},"anonymousId":{"@path":"$.anonymousId"},"userId":{"@path":"$.userId"},"messageId":{"@path":"$.messageId"},"properties":{"@path":"$.properties"}}
m=copy.deepcopy(base_map); m["undeclaredTop"]={"@path":"$.userId"}; m["type"]="override"
add("clay.track.mapping_undeclared_top_level","clay","track",TRACK_FULL,CLAY,mapping=m)
m=copy.deepcopy(base_map); m["page"]={"@path":"$.context.page"}
add("clay.track.mapping_page_whole_object","clay","track",ev(TRACK_FULL,context__page__extra="dropme"),CLAY,mapping=m)
m=copy.deepcopy(base_map); m["page"]={"@literal":{"path":None,"title":"","url":"https://x.example/"}}
add("clay.track.mapping_page_literal_null_empty","clay","track",TRACK_FULL,CLAY,mapping=m)
m=copy.deepcopy(base_map); m["properties"]={"@literal":{"a":"","b":None,"c":{"d":"","e":None}}}; m["userAgent"]={"@literal":None}
add("clay.track.mapping_literal_nulls","clay","track",TRACK_FULL,CLAY,mapping=m)
add("clay.track.missing_secret_key","clay","track",TRACK_FULL,{"connection_key":"ck_123"})
add("clay.track.http_500","clay","track",TRACK_FULL,CLAY,response={"status":500,"body":{"error":"boom"}})
add("clay.track.http_400","clay","track",TRACK_FULL,CLAY,response={"status":400,"body":{"error":"bad"}})
add("clay.__testAuthentication","clay","__testAuthentication",{},CLAY)
add("clay.__testAuthentication.401","clay","__testAuthentication",{},CLAY,response={"status":401,"body":{"error":"unauthorized"}})

# ---------------- Loops
IDENT = {"type":"identify","userId":"user-77","anonymousId":"anon-77","messageId":"msg-id-1","timestamp":"2024-04-01T09:00:00.000Z",
  "traits":{"email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","source":"Website","userGroup":"vip","plan":"pro","age":36,
            "mailingLists":{"list_news":True,"list_promo":False}}}
p="loops.createOrUpdateContact."
A="createOrUpdateContact"
add(p+"full","loops",A,IDENT,LOOPS)
add(p+"minimal","loops",A,{"type":"identify","userId":"u1","traits":{"email":"u1@example.com"}},LOOPS)
add(p+"email_top_level","loops",A,{"type":"identify","userId":"u2","email":"top@example.com","traits":{"firstName":"Top"}},LOOPS)
add(p+"email_traits_wins","loops",A,{"type":"identify","userId":"u3","email":"top@example.com","traits":{"email":"traits@example.com"}},LOOPS)
add(p+"source_default","loops",A,{"type":"identify","userId":"u4","traits":{"email":"u4@example.com"}},LOOPS)
add(p+"source_empty_string","loops",A,{"type":"identify","userId":"u5","traits":{"email":"u5@example.com","source":""}},LOOPS)
add(p+"source_null","loops",A,{"type":"identify","userId":"u5n","traits":{"email":"u5@example.com","source":None}},LOOPS)
add(p+"traits_mailing_lists_mixed","loops",A,{"type":"identify","userId":"u6","traits":{"email":"u6@example.com",
   "mailingLists":{"l_true_str":"true","l_false_str":"false","l_true":True,"l_false":False,"l_one":1,"l_yes":"yes","l_null":None,"l_TRUE":"TRUE"}}},LOOPS)
m={"customAttributes":{"@path":"$.traits"},"email":{"@path":"$.traits.email"},"userId":{"@path":"$.userId"},
   "mailingLists":{"@literal":{"f_true_str":"true","f_false_str":"false","f_true":True,"f_one":1,"f_yes":"yes"}},"source":"Segment"}
add(p+"field_mailing_lists_mixed","loops",A,{"type":"identify","userId":"u7","traits":{"email":"u7@example.com","mailingLists":{"t_list":True}}},LOOPS,mapping=m)
m2=copy.deepcopy(m); m2["mailingLists"]={"@literal":{}}
add(p+"field_mailing_lists_empty_falls_back","loops",A,{"type":"identify","userId":"u8","traits":{"email":"u8@example.com","mailingLists":{"t_list":"true"}}},LOOPS,mapping=m2)
m3=copy.deepcopy(m); m3["mailingLists"]={"@path":"$.traits.lists"}
add(p+"field_mailing_lists_from_path","loops",A,{"type":"identify","userId":"u8b","traits":{"email":"u8@example.com","lists":{"a":True,"b":"false"},"mailingLists":{"t":True}}},LOOPS,mapping=m3)
add(p+"traits_mailing_lists_not_object","loops",A,{"type":"identify","userId":"u8c","traits":{"email":"u8@example.com","mailingLists":"list1"}},LOOPS)
add(p+"no_traits","loops",A,{"type":"identify","userId":"u9"},LOOPS)
add(p+"missing_userId","loops",A,{"type":"identify","traits":{"email":"x@example.com"}},LOOPS)
add(p+"empty_userId","loops",A,{"type":"identify","userId":"","traits":{"email":"x@example.com"}},LOOPS)
add(p+"null_userId","loops",A,{"type":"identify","userId":None,"traits":{"email":"x@example.com"}},LOOPS)
add(p+"number_userId","loops",A,{"type":"identify","userId":12345,"traits":{"email":"n@example.com","firstName":7,"userGroup":True}},LOOPS)
add(p+"empty_strings","loops",A,{"type":"identify","userId":"u10","traits":{"email":"","firstName":"","lastName":"","userGroup":"","custom_empty":"","custom_null":None}},LOOPS)
add(p+"invalid_email","loops",A,{"type":"identify","userId":"u11","traits":{"email":"not-an-email"}},LOOPS)
add(p+"custom_attrs_nested_and_conflicts","loops",A,{"type":"identify","userId":"u12","traits":{"email":"c@example.com","userId":"traits-user","source":"Ads",
   "address":{"city":"Paris","zip":None},"tags":["a","b"],"score":9.5,"vip":True}},LOOPS)
mc={"customAttributes":{"@path":"$.traits"},"email":{"@path":"$.traits.email"},"userId":{"@path":"$.userId"},"source":"Segment",
    "createdAt":{"@path":"$.traits.createdAt"},"subscribed":{"@path":"$.traits.subscribed"}}
add(p+"createdAt_subscribed","loops",A,{"type":"identify","userId":"u13","traits":{"email":"d@example.com","createdAt":"2023-01-02T03:04:05Z","subscribed":"true"}},LOOPS,mapping=mc)
add(p+"createdAt_unix_subscribed_false_str","loops",A,{"type":"identify","userId":"u14","traits":{"email":"d@example.com","createdAt":1672628645,"subscribed":"false"}},LOOPS,mapping=mc)
add(p+"createdAt_invalid","loops",A,{"type":"identify","userId":"u15","traits":{"email":"d@example.com","createdAt":"yesterday","subscribed":1}},LOOPS,mapping=mc)
add(p+"subscribed_invalid","loops",A,{"type":"identify","userId":"u16","traits":{"email":"d@example.com","subscribed":"yes"}},LOOPS,mapping=mc)
add(p+"customAttributes_array","loops",A,{"type":"identify","userId":"u17","traits":["a","b"]},LOOPS)

TR={"type":"track","event":"Invoice Paid","userId":"user-77","messageId":"m-ev-1","timestamp":"2024-04-01T09:00:00.000Z",
    "context":{"traits":{"email":"ctx@example.com"}},"properties":{"email":"props@example.com","amount":42.5,"currency":"EUR","items":[{"id":1}]}}
p="loops.sendEvent."; A="sendEvent"
add(p+"full","loops",A,TR,LOOPS)
add(p+"email_from_context_traits","loops",A,ev(TR,properties={"amount":1}),LOOPS)
add(p+"no_email","loops",A,{"type":"track","event":"Ping","userId":"u1"},LOOPS)
add(p+"missing_userId","loops",A,ev(TR,userId=DEL),LOOPS)
add(p+"missing_event","loops",A,ev(TR,event=DEL),LOOPS)
add(p+"missing_userId_and_event","loops",A,ev(TR,event=DEL,userId=DEL),LOOPS)
add(p+"numbers_for_strings","loops",A,ev(TR,userId=99,event=500),LOOPS)
add(p+"empty_strings","loops",A,ev(TR,properties={"email":"","note":""}),LOOPS)
ms={"email":{"@path":"$.properties.email"},"eventName":{"@path":"$.event"},"userId":{"@path":"$.userId"},
    "contactProperties":{"@path":"$.context.traits"},"eventProperties":{"@path":"$.properties"}}
add(p+"contactProperties_spread","loops",A,ev(TR,context={"traits":{"email":"ctx@example.com","firstName":"Ctx","plan":"gold","eventName":"clash"}}),LOOPS,mapping=ms)
add(p+"eventProperties_array","loops",A,ev(TR,properties=[1,2]),LOOPS)
add(p+"http_429","loops",A,TR,LOOPS,response={"status":429,"body":{"message":"slow down"}})
add("loops.__onDelete","loops","__onDelete",{"type":"delete","userId":"user-77","anonymousId":"anon-77"},LOOPS)
add("loops.__onDelete.anonymous_only","loops","__onDelete",{"type":"delete","anonymousId":"anon-77"},LOOPS)
add("loops.__testAuthentication","loops","__testAuthentication",{},LOOPS)
add("loops.createOrUpdateContact.missing_apiKey","loops","createOrUpdateContact",IDENT,{})

# ---------------- CleverTap
ID_CT={"type":"identify","userId":"ct-user-1","messageId":"m-ct-1","timestamp":"2024-05-06T07:08:09.000Z","properties":{"Name":"Grace","Plan":"gold","Age":40},"traits":{"ignored":"traits not mapped"}}
p="clevertap.userUpload."; A="userUpload"
add(p+"full","clevertap",A,ID_CT,CT)
add(p+"missing_userId","clevertap",A,ev(ID_CT,userId=DEL),CT)
add(p+"no_timestamp","clevertap",A,ev(ID_CT,timestamp=DEL),CT)
add(p+"timestamp_unix_number","clevertap",A,ev(ID_CT,timestamp=1715000000),CT)
add(p+"timestamp_garbage","clevertap",A,ev(ID_CT,timestamp="whenever"),CT)
add(p+"no_properties","clevertap",A,ev(ID_CT,properties=DEL),CT)
add(p+"empty_and_null_properties","clevertap",A,ev(ID_CT,properties={"a":"","b":None}),CT)
add(p+"number_userId","clevertap",A,ev(ID_CT,userId=555),CT)
add(p+"endpoint_absent","clevertap",A,ID_CT,{"clevertapAccountId":"acc","clevertapPasscode":"pass"})
add(p+"endpoint_absent_no_settings_validation","clevertap",A,ID_CT,{"clevertapAccountId":"acc","clevertapPasscode":"pass"},validateSettings=False)
add(p+"endpoint_default_value","clevertap",A,ID_CT,{"clevertapAccountId":"acc","clevertapPasscode":"pass","clevertapEndpoint":"https://sk1.api.clevertap.com"})
add(p+"endpoint_not_uri","clevertap",A,ID_CT,{"clevertapAccountId":"acc","clevertapPasscode":"pass","clevertapEndpoint":"eu1.api.clevertap.com"})
p="clevertap.userDelete."; A="userDelete"
DEL_EV={"type":"track","event":"Delete User","userId":"ct-user-1","messageId":"m-ct-2","timestamp":"2024-05-06T07:08:09.000Z"}
add(p+"full","clevertap",A,DEL_EV,CT)
add(p+"missing_userId","clevertap",A,ev(DEL_EV,userId=DEL),CT)
add(p+"empty_userId","clevertap",A,ev(DEL_EV,userId=""),CT)
add(p+"endpoint_absent","clevertap",A,DEL_EV,{"clevertapAccountId":"acc","clevertapPasscode":"pass"})
add("clevertap.__testAuthentication","clevertap","__testAuthentication",{},CT)

# ---------------- Loops and CleverTap edge cases (issue 4: the catalog)
p="loops.createOrUpdateContact."; A="createOrUpdateContact"
add(p+"traits_mailing_lists_text_true","loops",A,{"type":"identify","userId":"e1","traits":{"mailingLists":"true"}},LOOPS)
add(p+"traits_mailing_lists_null","loops",A,{"type":"identify","userId":"e2","traits":{"mailingLists":None,"plan":"x"}},LOOPS)
add(p+"traits_mailing_lists_list","loops",A,{"type":"identify","userId":"e3b","traits":{"mailingLists":[True,"x",{"a":True},"false"]}},LOOPS)
add(p+"traits_mailing_lists_nested","loops",A,{"type":"identify","userId":"e3","traits":{"mailingLists":{"a":{"b":True},"c":"false"}}},LOOPS)
m4=copy.deepcopy(m); m4["mailingLists"]={"@literal":{"only_bad":"yes"}}
add(p+"field_mailing_lists_nonempty_invalid_no_fallback","loops",A,{"type":"identify","userId":"e4","traits":{"email":"e4@example.com","mailingLists":{"t":True}}},LOOPS,mapping=m4)
add(p+"createdAt_date_only_subscribed_false","loops",A,{"type":"identify","userId":"e5","traits":{"createdAt":"2024-03-05","subscribed":False}},LOOPS,mapping=mc)
add(p+"null_traits","loops",A,{"type":"identify","userId":"e6","traits":None},LOOPS)
add(p+"mapping_undeclared_top_level","loops",A,{"type":"identify","userId":"e7","traits":{"plan":"p"}},LOOPS,
    mapping={"customAttributes":{"@path":"$.traits"},"userId":{"@path":"$.userId"},"undeclared":"u","source":"Segment"})
add(p+"boolean_and_number_names","loops",A,{"type":"identify","userId":True,"traits":{"firstName":0,"lastName":False,"email":None}},LOOPS)
p="loops.sendEvent."; A="sendEvent"
add(p+"null_properties_and_email","loops",A,ev(TR,properties=None,context={"traits":{"email":None}}),LOOPS)
add(p+"contactProperties_not_object","loops",A,ev(TR),LOOPS,mapping=dict(ms,contactProperties={"@path":"$.event"}))
add(p+"mapping_undeclared_top_level","loops",A,ev(TR),LOOPS,mapping=dict(ms,undeclared="u",contactProperties={"@literal":{"plan":"gold","email":""}}))
add(p+"invalid_email","loops",A,ev(TR,properties={"email":"nope"}),LOOPS)
add(p+"empty_event","loops",A,ev(TR,event=""),LOOPS)
p="clevertap.userUpload."; A="userUpload"
add(p+"properties_array","clevertap",A,ev(ID_CT,properties=["a"]),CT)
add(p+"identity_object","clevertap",A,ev(ID_CT,userId={"id":1}),CT)
add(p+"identity_single_item_array","clevertap",A,ev(ID_CT,userId=["u-1"]),CT)
add(p+"boolean_userId_null_timestamp","clevertap",A,ev(ID_CT,userId=False,timestamp=None),CT)
add(p+"mapping_undeclared_top_level","clevertap",A,ID_CT,CT,mapping={"identity":{"@path":"$.userId"},"type":"event","profileData":{"@path":"$.traits"}})
p="clevertap.userDelete."; A="userDelete"
add(p+"number_userId","clevertap",A,ev(DEL_EV,userId=555),CT)
add(p+"null_userId","clevertap",A,ev(DEL_EV,userId=None),CT)
add(p+"missing_passcode","clevertap",A,DEL_EV,{"clevertapAccountId":"acc","clevertapEndpoint":"https://us1.api.clevertap.com"})

# ---------------- Probe (our own synthetic definition; observes actions-core field processing)
probe=[]
def P(id, props, **kw):
    pr={"req":"r"}; pr.update(props)
    c={"id":"probe."+id,"destination":"probe","action":"echo","event":{"type":"track","properties":pr},"settings":{}}
    c.update(kw); probe.append(c)
P("baseline_valid",{"s":"x","n":1.5,"i":2,"b":False,"dt":"2024-01-01T00:00:00Z","dtf":"2024-01-01T00:00:00Z","d":"2024-01-01","email":"a@b.co","uri":"https://x.y/z","uuid":"123e4567-e89b-12d3-a456-426614174000","txt":"t","pwd":"p","multi_s":["a","b"],"multi_n":[1,2],"obj_open":{"k":1},"obj_props":{"a":"x","n":1,"b":True,"extra":1},"obj_closed":{"a":"x","n":1},"obj_multi":[{"a":"x","n":1}],"s_null":"v","n_null":3,"choice":"red","len":"abc"})
P("empty_strings_top",{"s":"","n":"","i":"","b":"","dt":"","dtf":"","d":"","email":"","uri":"","uuid":"","txt":"","pwd":"","choice":"","len":"","obj_open":"","multi_s":"","multi_n":""})
P("empty_string_required",{"req":""})
P("nulls_top",{"s":None,"n":None,"i":None,"b":None,"dt":None,"dtf":None,"email":None,"multi_s":None,"obj_open":None,"obj_closed":None,"s_null":None,"n_null":None,"choice":None})
P("null_required",{"req":None})
P("nested_empty_and_null_open",{"obj_open":{"a":"","b":None,"c":{"d":"","e":None},"arr":["",None,1]}})
P("nested_empty_props",{"obj_props":{"a":"","n":"","b":"","x":"","y":None}})
P("nested_empty_string_in_string_prop",{"obj_props":{"a":""}})
P("nested_empty_string_in_number_prop",{"obj_props":{"n":""}})
P("nested_null_closed",{"obj_closed":{"a":None,"n":None}})
P("multi_object_empty_and_null",{"obj_multi":[{"a":"","n":""},{"a":None,"n":None}]})
P("multi_object_nested_nulls",{"obj_multi":[{"a":None,"n":None}]})
P("multi_object_nested_nulls_and_undeclared",{"obj_multi":[{"a":"","n":"5","zz":1}]})
P("multi_object_null_item",{"obj_multi":[None,{"a":"x"}]})
P("nested_null_props",{"obj_props":{"a":None,"n":None,"b":None}})
P("array_items_empty_null",{"multi_s":["a","",None,"b"],"multi_n":[1,"",None,2,"3"]})
P("coerce_number_to_string",{"s":12.5,"txt":0,"pwd":-1,"len":123})
P("coerce_bool_to_string",{"s":True,"txt":False})
P("coerce_string_to_number",{"n":"3.25","i":"42"})
P("coerce_string_to_number_bad",{"n":"abc"})
P("coerce_string_to_integer_fraction",{"i":"4.5"})
P("coerce_float_to_integer",{"i":4.5})
P("coerce_bool_to_number",{"n":True,"i":False})
P("coerce_string_to_boolean",{"b":"false"})
P("coerce_number_to_boolean",{"b":1})
P("coerce_bad_boolean",{"b":"yes"})
P("coerce_number_2_to_boolean",{"b":2})
P("coerce_single_to_multiple",{"multi_s":"solo","multi_n":"7"})
P("coerce_single_number_to_multi_string",{"multi_s":5})
P("coerce_object_to_multiple",{"obj_multi":{"a":"x","n":"1"}})
P("coerce_array_to_scalar_single",{"s":["only"],"n":["8"]})
P("coerce_array_to_scalar_multi",{"s":["a","b"]})
P("coerce_null_string_allowNull",{"s_null":None,"n_null":None})
# One-item lists: AJV unwraps a scalar item; under a union (allowNull, datetime) it always coerces it
P("coerce_array_null_to_scalar",{"s":[None],"n":[None],"b":[None]})
P("coerce_array_null_to_allowNull",{"s_null":[None],"n_null":[None]})
P("coerce_array_to_allowNull",{"s_null":[1],"n_null":[True]})
P("coerce_array_string_to_allowNull",{"s_null":["x"]})
P("coerce_array_number_to_allowNull",{"n_null":[2]})
P("coerce_array_nested_to_scalar",{"s":[["a"]]})
P("coerce_array_object_to_scalar",{"s":[{"a":1}]})
P("coerce_array_to_object",{"obj_open":[{"a":1}]})
P("coerce_array_bad_to_number",{"n":["abc"]})
P("coerce_array_to_choice",{"choice":["blue"]})
P("coerce_array_string_to_datetime",{"dt":["2024-03-05T10:20:30Z"]})
P("coerce_array_number_to_datetime",{"dt":[1709634030]})
P("object_given_string",{"obj_open":"str"})
P("object_given_array",{"obj_open":[1,2]})
P("object_given_number",{"obj_props":5})
P("string_given_object",{"s":{"a":1}})
P("closed_object_undeclared",{"obj_closed":{"a":"x","zzz":1,"nested":{"q":1}}})
P("additional_true_object_undeclared",{"obj_addl_true":{"a":5,"n":"","zzz":1,"nul":None,"emp":""}})
P("open_object_with_props_undeclared",{"obj_props":{"a":"x","zzz":1}})
P("nested_coercion",{"obj_props":{"a":5,"n":"6","b":"true"},"obj_closed":{"a":False,"n":"1e3"}})
P("nested_type_error",{"obj_props":{"n":"abc"}})
P("choices_invalid",{"choice":"blue"})
P("len_too_short",{"len":"a"})
P("len_too_long",{"len":"abcdefgh"})
P("email_invalid",{"email":"nope"})
P("uri_invalid",{"uri":"not a uri"})
P("uuid_invalid",{"uuid":"123"})
P("date_invalid",{"d":"2024-02-30"})
P("date_with_time",{"d":"2024-01-01T00:00:00Z"})
for i,v in enumerate(["2024-03-05T10:20:30Z","2024-03-05T10:20:30.123456789Z","2024-03-05t10:20:30z","2024-03-05 10:20:30","2024-03-05T10:20:30","2024-03-05T10:20","2024-03-05T10:20:30+0200","2024-03-05T10:20:30+02","2024-03-05T25:00:00Z","2024-02-30T10:00:00Z","2024-03-05","March 5, 2024","1709634030","1709634030123",1709634030,1709634030123,0,-1,True,""," ","2024-03-05T10:20:30.Z"]):
    P("datetime_dt.%02d"%i,{"dt":v}); probe[-1]["value"]=v
    P("datetime_dtf.%02d"%i,{"dtf":v}); probe[-1]["value"]=v
P("datetime_dt_only_bad",{"dt":"yesterday"})
P("datetime_dtf_only_bad",{"dtf":"yesterday"})
P("missing_required",{})
probe[-1]["event"]["properties"].pop("req")
P("missing_required_and_type_errors",{"n":"x","b":"maybe","choice":"blue"})
probe[-1]["event"]["properties"].pop("req")
P("mapping_undeclared_top_level",{},mapping={"req":"r","s":"x","undeclared":"u","nested_undeclared":{"k":1}})
P("mapping_with_empty_string_literal",{},mapping={"req":"r","s":{"@literal":""},"n":{"@literal":""},"obj_open":{"@literal":{}}})
P("mapping_template_missing",{},mapping={"req":"r","s":{"@template":"{{properties.nothing}}"},"txt":{"@template":"pre-{{properties.nothing}}-post"},"pwd":"{{plain string is literal}}"})
cases.extend(probe)
with open(OUT,"w") as f:
    for c in cases: f.write(json.dumps(c,ensure_ascii=False)+"\n")
print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")
