#!/usr/bin/python3
"""Self-test of test/simulator.py: starts it on a free port and exercises the
endpoints, the control API and a representative set of faults.
Prints "N passed, M failed" and exits non-zero on failure."""

import base64
import gzip
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import simulator as simmod  # noqa: E402  (reference formulas)

PASSED = 0
FAILED = 0
BASIC = "Basic " + base64.b64encode(b"sim:sim-secret").decode()
C3 = "cccccccc-0000-4000-8000-000000000003"
C20 = "cccccccc-0000-4000-8000-000000000020"


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL: %s %s" % (name, detail))


class Sim:
    def __init__(self):
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "simulator.py"), "--port", "0",
                                   "--quiet"], stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        self.port = int(line.rsplit(":", 1)[1])

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def req(self, method, path, body=None, headers=None, conn=None, auth=BASIC):
        h = {"Accept": "application/json"}
        if auth:
            h["Authorization"] = auth
        if headers:
            h.update(headers)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        c = conn or self.conn()
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def js(self, *a, **kw):
        st, h, data = self.req(*a, **kw)
        return st, h, json.loads(data)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()


def det_path(cust, prefix=""):
    return prefix + "/api/v2/customer/%s/subscriber-all-details" % cust


def pit_scan(sim, cust, size, prefix="", conn=None, max_req=100):
    recs, pit, reqs = [], "", 0
    while reqs < max_req:
        body = {"pitId": pit, "size": size}
        if not pit:
            body["pitKeepAlive"] = 2
        st, h, j = sim.js("POST", det_path(cust, prefix), body, conn=conn)
        reqs += 1
        if st != 200:
            return recs, st, j, reqs
        recs.extend(j["content"])
        pit = j["pitId"]
        if not j["content"] or len(recs) >= j["totalRecordAmount"]:
            return recs, st, j, reqs
    return recs, None, None, reqs


def main():
    sim = Sim()
    try:
        run(sim)
    finally:
        sim.stop()
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


def run(sim):
    S20, S3 = "000000000020", "000000000003"
    # -- control -------------------------------------------------------
    st, h, j = sim.js("POST", "/_sim/reset", auth=None)
    check("reset", st == 200 and j == {"ok": True})

    # -- auth ----------------------------------------------------------
    st, h, j = sim.js("GET", "/api/v2/customer/%s/subscriber" % C3, auth=None)
    check("401 no auth", st == 401 and j["errorCode"] == "AUTH_401" and "www-authenticate" in h)
    st, h, j = sim.js("GET", "/api/v2/customer/%s/subscriber" % C3,
                      auth="Basic " + base64.b64encode(b"sim:wrong").decode())
    check("401 bad password", st == 401)
    st, h, j = sim.js("GET", "/api/v2/customer/%s/subscriber" % C3, auth="Bearer sim-token")
    check("bearer ok", st == 200 and len(j["content"]) == 3, j)
    st, h, j = sim.js("GET", "/api/v2/customer/%s/subscriber" % C3, auth="Bearer nope")
    check("bearer bad", st == 401)

    # -- customer_subscribers -----------------------------------------
    st, h, j = sim.js("GET", "/api/v2/customer/%s/subscriber" % C3)
    check("subs 200", st == 200 and j["errorCode"] == "" and j["pageable"] ==
          {"page": 1, "size": 10, "totalPages": 1, "totalElements": 3}, j.get("pageable"))
    check("subs records = reference",
          j["content"] == [simmod.subscriber_obj(S3, 3, i) for i in range(3)])
    check("subs key order", list(j["content"][0].keys()) ==
          ["subscriberId", "imsiMsisdnPairs", "iccid", "status", "imei", "imeisv", "customerId", "customerName"])
    r1 = j["content"][1]
    check("subs formula", r1["subscriberId"] == "00000001-0000-4000-a000-030000000000" and
          r1["iccid"] == "89357110000030000001" and r1["status"] == "SUSPEND" and
          r1["imei"] == "354306110000001" and len(r1["imsiMsisdnPairs"]) == 2 and
          "msisdn" not in r1["imsiMsisdnPairs"][1] and r1["imsiMsisdnPairs"][1]["isLastActive"], r1)
    # paging over 20
    got = []
    for p in range(1, 5):
        st, h, j = sim.js("GET", "/api/v2/customer/%s/subscriber?page=%d&size=7" % (C20, p))
        got += j["content"]
        if p == 1:
            check("paging totals", j["pageable"]["totalPages"] == 3 and j["pageable"]["totalElements"] == 20)
    check("paging all records", [r["subscriberId"] for r in got] ==
          [simmod.subscriber_obj(S20, 20, i)["subscriberId"] for i in range(20)])
    st, h, j = sim.js("GET", "/api/v2/customer/%s/subscriber?page=9&size=7" % C20)
    check("page past end", st == 200 and j["content"] == [])
    st, h, j = sim.js("GET", "/api/v2/customer/%s/subscriber?page=0&size=7" % C20)
    check("bad page", st == 400 and j["errorCode"] == "GLOBAL_1003")
    st, h, j = sim.js("GET", "/api/v2/customer/%s/subscriber?size=10001" % C20)
    check("bad size", st == 400 and j["errorCode"] == "GLOBAL_1003")
    st, h, j = sim.js("GET", "/api/v2/customer/%s/subscriber" % C20.upper())
    check("uppercase id", st == 200 and len(j["content"]) == 10)
    st, h, j = sim.js("GET", "/api/v2/customer/%s/subscriber" % "12345678-1234-4234-8234-123456789012")
    check("unknown customer 404", st == 404 and j["errorCode"] == "CUSTOMER_1002" and j["content"] == "")
    st, h, j = sim.js("GET", "/api/v2/customer/not-a-uuid/subscriber")
    check("bad id 400", st == 400 and j["errorCode"] == "GLOBAL_1000")
    st, h, j = sim.js("GET", "/api/v2/customer/cccccccc-0000-4000-8000-000000000000/subscriber")
    check("empty customer", st == 200 and j["content"] == [] and j["pageable"]["totalPages"] == 0)

    # -- subscriber_details: pit protocol ------------------------------
    c = sim.conn()
    for size in (7, 1000):
        recs, st, j, n = pit_scan(sim, C20, size, conn=c)
        check("pit scan size %d" % size, st == 200 and len(recs) == 20 and
              recs == [simmod.detail_obj(S20, 20, i) for i in range(20)], (st, len(recs)))
        check("pit scan requests size %d" % size, n == (3 if size == 7 else 1), n)
    st, h, j = sim.js("POST", det_path(C20), {"pitId": "", "pitKeepAlive": 1, "size": 7})
    pit = j["pitId"]
    check("details envelope", j["recordAmount"] == 7 and j["totalRecordAmount"] == 20 and j["pageable"] == "")
    st, h, j = sim.js("POST", det_path(C3), {"pitId": pit, "size": 7})
    check("pit of other customer", st == 400 and j["errorCode"] == "GLOBAL_1018")
    st, h, j = sim.js("POST", det_path(C20), {"pitId": "46Tobogus", "size": 7})
    check("unknown pit", st == 400 and j["errorCode"] == "GLOBAL_1018" and j["errorMessage"] == "Invalid point in time ID")
    st, h, j = sim.js("POST", det_path(C20), {"pitId": "", "pitKeepAlive": 31, "size": 7})
    check("keepalive 31", st == 400 and j["errorCode"] == "GLOBAL_1003")
    st, h, j = sim.js("POST", det_path(C20), {"pitId": "", "size": 0})
    check("size 0", st == 400 and j["errorCode"] == "GLOBAL_1003")
    st, h, j = sim.js("POST", det_path(C20), "{not json")
    check("body not json", st == 400 and j["errorCode"] == "GLOBAL_1000")
    st, h, j = sim.js("POST", det_path(C20), {})
    check("details defaults", st == 200 and j["recordAmount"] == 20)
    # quirks present somewhere in a bigger sample
    recs, st, j, n = pit_scan(sim, "cccccccc-0000-4000-8000-000000000200", 50)
    check("200 records", len(recs) == 200 and recs == [simmod.detail_obj("000000000200", 200, i) for i in range(200)])
    r4, r13 = recs[4], recs[13]
    check("quirk meisv", "meisv" in r4 and "imeisv" not in r4)
    check("quirk string usage", recs[5]["dailySmsUsage"] == "5" and recs[5]["dailyDataUsage"] == "0.5")
    check("quirk lastUsageLocation ''", recs[1]["lastUsageLocation"] == "" and isinstance(recs[0]["lastUsageLocation"], dict))
    check("quirk absent network", "lastConnectedNetwork" not in recs[9] and "isInDataSession" not in recs[9])
    check("quirk nulls", recs[6]["lastDataSession"] is None and recs[6]["monthlySmsUsage"] is None)
    check("ipv6", recs[5]["lastIp"] == "2001:db8::0:0:5" and recs[7]["lastIp"] == "")
    check("astDataRatTypeLabel", "astDataRatTypeLabel" in recs[2] and "lastDataRatTypeLabel" not in recs[2])
    check("eId", recs[3]["eId"] == "00909231222999920000000000003" and "eId" not in r4)
    check("number", recs[123]["dailyDataUsage"] == 12.3 and r13["profile"][1]["iccid"] == "89357110002000000131")

    # -- the varied family ------------------------------------------------
    varied(sim)

    # -- sessions -------------------------------------------------------
    sp = "/pcc/spcm/subscribers/%s/sessions"
    st, h, j = sim.js("GET", sp % "3531234567", headers={"tenant": "acme"})
    check("sessions 3 -> 3 sessions list", st == 200 and j["length"] == "3" and isinstance(j["sessionInfo"], list)
          and len(j["sessionInfo"]) == 3 and h["content-type"].startswith("application/json"), j)
    check("sessions = reference", j == simmod.sessions_obj("3531234567"))
    check("plmnId absent j==2", "plmnId" not in j["sessionInfo"][2] and j["sessionInfo"][0]["plmnId"] == "123000")
    st, h, j = sim.js("GET", sp % "3531234561", headers={"tenant": "acme"})
    check("sessions bare object", st == 200 and isinstance(j["sessionInfo"], dict) and j["length"] == "1")
    st, h, j = sim.js("GET", sp % "3531234564", headers={"tenant": "acme"})
    check("sessions none", st == 200 and j == {"length": "0"})
    shapes = set()
    for m in range(10, 40):
        o = simmod.sessions_obj("35312345%02d" % m)
        for s in ([o.get("sessionInfo")] if isinstance(o.get("sessionInfo"), dict) else o.get("sessionInfo", [])):
            irl = s.get("installedRuleList")
            shapes.add(("irl", None if irl is None else type(irl.get("installedRule")).__name__))
            lpl = s.get("locationProfileList")
            shapes.add(("lpl", None if lpl is None else type(lpl.get("locationProfile")).__name__))
    check("session shapes", len(shapes) == 7, shapes)
    st, h, j = sim.js("GET", sp % "4041234567", headers={"tenant": "acme"})
    check("sessions 404", st == 404 and j == {"message": "subscriber not found"})
    st, h, j = sim.js("GET", sp % "12%2F34", headers={"tenant": "acme"})
    check("sessions non-digit 404", st == 404)
    st, h, j = sim.js("GET", sp % "3531234567")
    check("tenant missing", st == 400 and j["errors"][0]["field"] == "tenant")
    st, h, j = sim.js("GET", sp % "3531234567", headers={"tenant": "other"})
    check("tenant wrong", st == 403 and j == {"message": "forbidden"})

    # -- keep-alive and log --------------------------------------------
    st, h, j = sim.js("GET", "/_sim/stats", auth=None)
    conns0 = j["connections"]
    c = sim.conn()
    for k in range(5):
        sim.req("GET", "/api/v2/customer/%s/subscriber?page=%d&size=2" % (C20, k + 1), conn=c)
    c.close()
    st, h, j = sim.js("GET", "/_sim/stats", auth=None)
    check("keep-alive one connection", j["connections"] == conns0 + 2, (conns0, j))  # +1 for this stats request
    st, h, log = sim.js("GET", "/_sim/log?path_contains=size%3D2&settle=1", auth=None)
    check("log filter", len(log) == 5 and all(e["path"].endswith("size=2") for e in log), len(log))
    check("log same conn", len({e["conn"] for e in log}) == 1)
    e = log[0]
    check("log fields", e["method"] == "GET" and e["status"] == 200 and e["records"] == 2 and
          e["auth"] == "basic" and e["accept"] == "application/json" and e["tenant"] is None and
          e["end"] >= e["start"] > 0, e)
    st, h, log2 = sim.js("GET", "/_sim/log?since=%d" % log[2]["seq"], auth=None)
    check("log since", [x["seq"] for x in log2] == [x["seq"] for x in log[3:]])
    st, h, log3 = sim.js("GET", "/_sim/log?path_contains=subscriber-all-details", auth=None)
    check("log body", any('"pitKeepAlive": 2' in x["body"] for x in log3))

    # -- faults ----------------------------------------------------------
    F = "/_fault/"
    st, h, j = sim.js("GET", F + "status=503,retry_after=2,times=1/api/v2/customer/%s/subscriber" % C3)
    check("status 503", st == 503 and h.get("retry-after") == "2" and j["errorMessage"] == "simulated 503")
    st, h, j = sim.js("GET", F + "status=503,retry_after=2,times=1/api/v2/customer/%s/subscriber" % C3)
    check("times=1 then normal", st == 200 and len(j["content"]) == 3)
    codes = []
    for k in range(4):
        st, h, j = sim.js("GET", F + "status=500,after=1,times=2/api/v2/customer/%s/subscriber" % C3)
        codes.append(st)
    check("after+times", codes == [200, 500, 500, 200], codes)
    st, h, j = sim.js("POST", det_path(C3, F + "error=GLOBAL_1001"), {"size": 5})
    check("error fault", st == 200 and j["errorCode"] == "GLOBAL_1001" and j["content"] == "")
    st, h, j = sim.js("GET", F + "status=404/pcc/spcm/subscribers/3531234567/sessions", headers={"tenant": "acme"})
    check("status 404 sessions", st == 404 and j == {"message": "subscriber not found"})
    t0 = time.time()
    st, h, j = sim.js("GET", F + "delay=300/api/v2/customer/%s/subscriber" % C3)
    check("delay", st == 200 and time.time() - t0 >= 0.3)
    # pit faults
    recs, st, j, n = pit_scan(sim, C20, 5, prefix=F + "pit_expire_after=2")
    check("pit_expire_after", st == 400 and j["errorCode"] == "GLOBAL_1018" and len(recs) == 10, (st, len(recs)))
    seen = []
    recs, pit = [], ""
    for k in range(5):
        st, h, j = sim.js("POST", det_path(C20, F + "pit_rotate=1"), {"pitId": pit, "size": 5, "pitKeepAlive": 1})
        if st != 200 or not j["content"]:
            break
        recs += j["content"]
        seen.append(j["pitId"])
        if len(recs) >= j["totalRecordAmount"]:
            break
        pit = j["pitId"]
    check("pit_rotate", len(recs) == 20 and len(set(seen)) == 4, seen)
    st, h, j = sim.js("POST", det_path(C20, F + "pit_rotate=1"), {"pitId": seen[0], "size": 5})
    check("rotated old pit invalid", st == 400 and j["errorCode"] == "GLOBAL_1018")
    recs, st, j, n = pit_scan(sim, C20, 7, prefix=F + "never_end=1", max_req=6)
    check("never_end", n == 6 and st is None and len(recs) == 42)
    st, h, j = sim.js("GET", F + "never_end=1/api/v2/customer/%s/subscriber?page=5&size=3" % C3)
    check("never_end subs", j["pageable"]["totalPages"] == 6 and len(j["content"]) == 3)
    st, h, j = sim.js("GET", F + "total=12345/api/v2/customer/%s/subscriber?page=2&size=100" % C3)
    check("total override", j["pageable"]["totalElements"] == 12345 and len(j["content"]) == 100)
    st, h, j = sim.js("GET", F + "no_total=1/api/v2/customer/%s/subscriber?page=1&size=2" % C3)
    check("no_total subs", "totalElements" not in j["pageable"] and j["pageable"]["totalPages"] == 2 and
          len(j["content"]) == 2, j["pageable"])
    st, h, j = sim.js("POST", det_path(C3, F + "no_total=1,times=1"), {"pitId": "", "size": 1})
    st2, h, j2 = sim.js("POST", det_path(C3, F + "no_total=1,times=1"), {"pitId": "", "size": 1})
    check("no_total details, times=1", "totalRecordAmount" not in j and len(j["content"]) == 1 and
          j2["totalRecordAmount"] == 3, (j.keys(), j2.get("totalRecordAmount")))
    st, h, data = sim.req("GET", F + "redirect=1/api/v2/customer/%s/subscriber" % C3)
    check("redirect", st == 302 and h["location"].endswith("/subscriber"))
    # reset
    try:
        sim.req("GET", F + "reset=1/api/v2/customer/%s/subscriber" % C3)
        check("reset fault", False, "got an answer")
    except (ConnectionError, http.client.HTTPException, OSError):
        check("reset fault", True)
    # lose: handled (the point in time advances), then no answer
    st, h, j = sim.js("POST", det_path(C20), {"pitId": "", "pitKeepAlive": 1, "size": 5})
    pit = j["pitId"]
    try:
        sim.req("POST", det_path(C20, F + "lose=1"), body=json.dumps({"pitId": pit, "size": 5}))
        check("lose fault", False, "got an answer")
    except (ConnectionError, http.client.HTTPException, OSError):
        check("lose fault", True)
    st, h, j = sim.js("POST", det_path(C20), {"pitId": pit, "size": 5})
    check("lose advanced the pit", st == 200 and j["content"][0] == simmod.detail_obj(S20, 20, 10), j.get("content", [{}])[0])
    # body kinds
    base = "/api/v2/customer/%s/subscriber" % C3

    def body_kind(kind, path=base, method="GET", body=None, headers=None):
        return sim.req(method, F + "body=" + kind + path, body=body, headers=headers)

    def parses(data):
        try:
            json.loads(data.decode("utf-8"))
            return True
        except (ValueError, UnicodeDecodeError):
            return False
    for kind in ("malformed", "truncated", "notjson", "trailing", "empty", "bad_utf8"):
        st, h, data = body_kind(kind)
        check("body=%s is invalid" % kind, st == 200 and not parses(data), data[:200])
    st, h, data = body_kind("notjson")
    check("notjson content-type", h["content-type"].startswith("text/html"))
    st, h, data = body_kind("malformed", det_path(C20), "POST", {"size": 3})
    check("malformed details", not parses(data) and b'"subscriberId":"00000000-0000-4000-a000-200000000000""eId"' in data)
    st, h, data = body_kind("content_string")
    check("content_string", json.loads(data)["content"] == "oops")
    st, h, data = body_kind("record_array")
    j = json.loads(data)
    check("record_array", j["content"][0] == [1, 2] and len(j["content"]) == 3)
    st, h, data = body_kind("deep")
    check("deep", data.count(b"[") > 10000 and len(data) > 20000)
    st, h, data = body_kind("nul")
    check("nul", "\x00" in json.loads(data)["content"][0]["status"])
    st, h, data = body_kind("dupkey")
    check("dupkey", data.count(b'"status"') == 4 and json.loads(data)["content"][0]["status"] == "DUPLICATE")
    st, h, data = body_kind("bignum")
    check("bignum subs", b'"totalElements":123456789012345678901234567890' in data and parses(data))
    st, h, data = body_kind("bignum", det_path(C20), "POST", {"size": 3})
    check("bignum details", b'"dailySmsUsage":1e400' in data and b"123456789012345678901234567890" in data)
    st, h, data = body_kind("dupkey", "/pcc/spcm/subscribers/3531234567/sessions", headers={"tenant": "acme"})
    check("dupkey sessions", data.count(b'"sessionId"') == 4)

    # set=: chosen member values, cycled over the records, sent as given
    spec = "set=status=%22a%5Cu00e9%22|null|,set=extra=%2201%2F02%22"
    st, h, data = sim.req("GET", "/_fault/%s/api/v2/customer/%s/subscriber" % (spec, C3))
    recs = json.loads(data)["content"]
    check("set values", st == 200 and [r.get("status", "absent") for r in recs] ==
          ["a\u00e9", None, "absent"] and all(r["extra"] == "01/02" for r in recs), data[:300])
    check("set keeps escapes and other members", b'"status":"a\\u00e9"' in data and
          recs[0]["iccid"] == simmod.subscriber_obj(S3, 3, 0)["iccid"], data[:300])
    # lie_length: client must see an incomplete read
    try:
        body_kind("lie_length")
        check("lie_length", False)
    except http.client.IncompleteRead:
        check("lie_length", True)
    # trickle
    t0 = time.time()
    st, h, data = sim.req("GET", F + "trickle=4000/api/v2/customer/%s/subscriber" % C3)
    dt = time.time() - t0
    check("trickle", parses(data) and dt >= len(data) / 4000.0 * 0.7, (len(data), dt))
    st, h, data = sim.req("GET", F + "oversize=3000000/api/v2/customer/%s/subscriber" % C3)
    check("oversize", len(data) >= 3000000 and len(json.loads(data)["padding"]) > 2900000 and
          len(json.loads(data)["content"]) == 3)
    t0 = time.time()
    sim.req("GET", F + "slow=600,times=1,id=slow1/api/v2/customer/%s/subscriber" % C3)
    t1 = time.time()
    sim.req("GET", F + "slow=600,times=1,id=slow1/api/v2/customer/%s/subscriber" % C3)
    t2 = time.time()
    check("slow only while active", t1 - t0 >= 0.55 and t2 - t1 < 0.5, (t1 - t0, t2 - t1))
    st, h, data = sim.req("GET", F + "gzip=1/api/v2/customer/%s/subscriber" % C3)
    check("gzip", h.get("content-encoding") == "gzip" and
          len(json.loads(gzip.decompress(data))["content"]) == 3, h)
    st, h, data = sim.req("GET", F + "big_header=60000/api/v2/customer/%s/subscriber" % C3)
    check("big_header", len(h.get("x-padding", "")) == 60000 and parses(data))
    st, h, j = sim.js("GET", F + "bogus=1/api/v2/customer/%s/subscriber" % C3)
    check("unknown fault key", st == 400)
    st, h, j = sim.js("GET", F + "id=xyz,times=1,status=500/api/v2/customer/%s/subscriber" % C3)
    check("id= accepted", st == 500)
    fz = [sim.req("GET", F + "body=fuzz,seed=%d/api/v2/customer/%s/subscriber" % (k, C3))[2] for k in range(40)]
    fz2 = sim.req("GET", F + "body=fuzz,seed=7,id=again/api/v2/customer/%s/subscriber" % C3)[2]
    st, h, plain = sim.req("GET", "/api/v2/customer/%s/subscriber" % C3)
    check("fuzz deterministic", fz[7] == fz2 and fz[7] == simmod.fuzz_body(plain, 7))
    check("fuzz mutates", all(x != plain for x in fz[:10]) and len(set(fz)) > 30)
    check("fuzz mostly invalid", sum(not parses(x) for x in fz) > 20, sum(not parses(x) for x in fz))
    # log sees the fault prefix; reset clears
    st, h, log = sim.js("GET", "/_sim/log?path_contains=/_fault/", auth=None)
    check("log keeps fault prefix", len(log) > 10 and all(e["path"].startswith("/_fault/") for e in log))
    st, h, j = sim.js("POST", "/_sim/reset", auth=None)
    st, h, log = sim.js("GET", "/_sim/log", auth=None)
    check("reset clears log", log == [])
    st, h, j = sim.js("GET", F + "status=503,times=1/api/v2/customer/%s/subscriber" % C3)
    check("reset clears fault counters", st == 503)

    # -- throughput --------------------------------------------------------
    for cust in ("cccccccc-0000-4000-8000-000000200000", "cccccccc-0000-4000-9999-000000200000"):
        throughput(sim, cust)


def varied(sim):
    """The varied family: the fast renderer's bytes equal the reference's for
    every shape (i % 5040) on both endpoints, and each quirk has its share."""
    D, N = "000000010080", 10080
    cust = "cccccccc-0000-4000-9999-" + D
    recs, pit, seen = [], "", 0
    c = sim.conn()
    while seen < N:
        st, h, data = sim.req("POST", det_path(cust), {"pitId": pit, "pitKeepAlive": 2, "size": 10000}, conn=c)
        j = json.loads(data)
        if st != 200 or not j["content"]:
            break
        recs.append(data[data.index(b'"content":[') + 11: data.rindex(b'],"pitId":')])
        seen += j["recordAmount"]
        pit = j["pitId"]
    c.close()
    want = b",".join(simmod.varied_dumps(simmod.varied_detail_obj(D, N, i), simmod.varied_escaped(i))
                     for i in range(N))
    check("varied details = reference bytes", b",".join(recs) == want, (len(recs), len(want)))
    got = []
    for page in (1, 2):
        st, h, data = sim.req("GET", "/api/v2/customer/%s/subscriber?page=%d&size=10000" % (cust.upper(), page))
        got.append(data[data.index(b'"content":[') + 11: data.rindex(b'],"pageable":')])
    want_s = b",".join(simmod.varied_dumps(simmod.varied_subscriber_obj(D, N, i), simmod.varied_escaped(i))
                       for i in range(N))
    check("varied subscribers = reference bytes", b",".join(got) == want_s)
    objs = json.loads(b"[" + b",".join(recs) + b"]")
    subs = json.loads(b"[" + b",".join(got) + b"]")
    check("varied both endpoints agree", all(
        s_[k] == d_[k] for s_, d_ in zip(subs, objs) for k in ("subscriberId", "status", "customerId", "customerName"))
        and all(s_["imsiMsisdnPairs"] == d_["profile"][0]["imsiMsisdnPairs"] and
                s_["iccid"] == d_["profile"][0]["iccid"] for s_, d_ in zip(subs, objs)))
    check("varied names decode", {o["customerName"] for o in objs} == set(simmod.V_NAMES))
    texts = [simmod.varied_dumps(simmod.varied_detail_obj(D, N, i), simmod.varied_escaped(i)) for i in range(N)]

    def share(pred):
        return sum(1 for i in range(N) if pred(i, texts[i], objs[i])) / N
    shares = {
        "\\u escape": (share(lambda i, t, o: b"\\u" in t), 0.45, 0.55),
        "raw UTF-8": (share(lambda i, t, o: max(t) > 0x7f), 0.10, 0.30),
        "escaped quote": (share(lambda i, t, o: b'\\"' in t), 0.10, 0.20),
        "escaped slash": (share(lambda i, t, o: b"\\/" in t), 0.20, 0.50),
        "number as string": (share(lambda i, t, o: isinstance(o["weeklySmsUsage"], str)), 0.10, 0.12),
        "19 digits": (share(lambda i, t, o: re.search(rb'"dailyDataUsage":"?[0-9]{4}[.][0-9]{15}"?,', t)), 0.19, 0.21),
        "12.0": (share(lambda i, t, o: re.search(rb'"weeklySmsUsage":"?[0-9]+[.]0"?,', t)), 0.19, 0.21),
        "IPv6": (share(lambda i, t, o: ":" in o["lastIp"]), 0.24, 0.26),
        '"" object': (share(lambda i, t, o: "" in (o["lastConnectedNetwork"], o["lastUsageLocation"])), 0.12, 0.13),
        "two profiles": (share(lambda i, t, o: len(o["profile"]) == 2 and "eId" in o), 0.33, 0.34),
        "extra members": (share(lambda i, t, o: "_links" in o and "tags" in o), 0.24, 0.26),
        "T separator": (share(lambda i, t, o: "T" in o["lastDataSessionRecord"]), 0.42, 0.44),
        "0 digits": (share(lambda i, t, o: len(o["lastDataSessionRecord"]) == 19), 0.33, 0.34),
        "3 digits": (share(lambda i, t, o: len(o["lastDataSessionRecord"]) == 23), 0.33, 0.34),
        "6 digits": (share(lambda i, t, o: len(o["lastDataSessionRecord"]) == 26), 0.33, 0.34),
        "meisv": (share(lambda i, t, o: "meisv" in o), 0.11, 0.12),
        "astDataRatTypeLabel": (share(lambda i, t, o: "astDataRatTypeLabel" in o), 0.19, 0.21),
    }
    for name, (v, lo, hi) in shares.items():
        check("varied share %s %.3f in [%.2f, %.2f]" % (name, v, lo, hi), lo <= v <= hi)
    check("varied surrogate pair", "\U0001f69a" in objs[12]["customerName"] and
          b"\\ud83d\\ude9a" in texts[5] and "\U0001f69a".encode() in texts[12])
    st, h, j = sim.js("POST", det_path("cccccccc-0000-4000-9991-" + D), {"size": 5})
    check("varied sub-customer is no customer", st == 404 and j["errorCode"] == "CUSTOMER_1002")


def throughput(sim, cust):
    c = sim.conn()
    t0 = time.time()
    recs_n, pit, nbytes = 0, "", 0
    while True:
        body = json.dumps({"pitId": pit, "pitKeepAlive": 5, "size": 10000})
        c.request("POST", det_path(cust), body=body,
                  headers={"Authorization": BASIC, "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        nbytes += len(data)
        tail = data[-300:]
        k = tail.rfind(b'"pitId":')
        j = json.loads(b"{" + tail[k:])
        if j["recordAmount"] == 0:
            break
        recs_n += j["recordAmount"]
        pit = j["pitId"]
        if recs_n >= j["totalRecordAmount"]:
            break
    dt = time.time() - t0
    c.close()
    check("throughput run complete", recs_n == 200000, recs_n)
    print("throughput (%s): %d detail records (%.1f MB) in %.2f s over one keep-alive connection = %.0f records/s"
          % ("varied" if "-9999-" in cust else "plain", recs_n, nbytes / 1e6, dt, recs_n / dt))


if __name__ == "__main__":
    sys.exit(main())
