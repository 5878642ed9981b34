#!/usr/bin/python3
"""Remote API simulator for subscriber_fdw (Python 3 standard library only).

Serves deterministic data for the three endpoints of the IoT connectivity API,
logs every API request, and injects faults on demand.  Used by pg_regress,
pgTAP, the demo and the benchmark.

Usage:
  python3 test/simulator.py [--host 127.0.0.1] [--port 0] [--port-file FILE]
        [--username sim] [--password sim-secret] [--token sim-token]
        [--tenant acme] [--tls-cert CERT --tls-key KEY] [--quiet]
        [--chunk-cache-mb MB]

--chunk-cache-mb keeps up to MB of rendered record arrays of any size for
the customer endpoints (default: 64 MB of arrays up to 2 MB each), so that a
benchmark's second and later scans of a customer are served from memory and
measure the client rather than the simulator's rendering.

Prints exactly one line "listening on http://HOST:PORT" (https with TLS) when
ready; --port-file receives the port number (written atomically).

AUTH (every API request; not /_sim/*): "Authorization: Basic base64(user:pass)"
or "Authorization: Bearer TOKEN".  Otherwise 401
{"errorCode":"AUTH_401","errorMessage":"Unauthorized"} + WWW-Authenticate.

CUSTOMERS: cccccccc-0000-4000-8000-NNNNNNNNNNNN (12 decimal digits, any case)
has N = int(digits) subscribers; S below is those 12 digits.  Any other UUID
(but the VARIED CUSTOMERS below) -> 404 CUSTOMER_1002; a non-UUID id -> 400
GLOBAL_1000.

SUBSCRIBER i (0-based, i < N) of customer S -- both endpoints:
  subscriberId  "%08x-%s-4%s-a%s-%s0000000000" % (i, S[0:4], S[4:7], S[7:10], S[10:12])
  iccid         "8935711" + S[-6:] + "%07d" % i            (customer_subscribers only)
  status        ["ACTIVE","SUSPEND","INACTIVE","TERMINATED"][i % 4]
  imei          "35430611%07d" % i      -- key absent when i % 10 == 7
  imeisv        "35430611%07d01" % i
  customerId    i % 5 == 4: "cccccccc-0000-4000-9000-" + S, else the customer itself
                (lower case, as "cccccccc-0000-4000-8000-" + S)
  customerName  i % 5 == 4: "Sub-customer " + str(N), else "Customer " + str(N)
  imsiMsisdnPairs: count = 1 + i % 3; pair k (0-based):
     imsi   "2220" + S[-5:] + "%05d%d" % (i, k)
     msisdn "99" + S[-4:] + "%07d%d" % (i, k)   -- key absent for k == 1 when i % 4 == 1
     isLastActive  k == i % count, except all false when i % 7 == 3
  (N above is the subscriber count in effect, i.e. the fault key total= if given.)

customer_subscribers record keys, in order:
  subscriberId, imsiMsisdnPairs, iccid, status, imei, imeisv, customerId, customerName

subscriber_details record i, keys in order:
  subscriberId
  eId            "0090923122299992" + "%013d" % i     -- only when i % 3 == 0
  profile        1 + i % 2 profiles; profile p:
                   iccid "8935711" + S[-6:] + "%06d%d" % (i, p)
                   imsiMsisdnPairs: p == 0 -> the pairs above;
                     p == 1 -> [{"imsi": "2230"+S[-5:]+"%05d9" % i,
                                 "msisdn": "99"+S[-4:]+"%07d9" % i, "isLastActive": false}]
  status, imei, imeisv, customerId, customerName   (as above)
  dailySmsUsage    i % 50                           (integer)
  dailyDataUsage   (i % 1000) / 10, one decimal     e.g. 54.3, 0.0
  weeklySmsUsage   i % 350
  weeklyDataUsage  (i % 7000) / 10, one decimal
  monthlySmsUsage  i % 1500
  monthlyDataUsage (i % 30000) / 10, one decimal
  lastConnectedNetwork {"mcc":"724","mnc":"%02d" % (i % 10),"plmn":"BRA%02d" % (i % 10),
                        "countryCode":["BRA","DEU","USA","IRL"][i % 4]}
  lastUsageLocation {"mcc":"734","mnc":"04","lac":"","tac":"%d" % i,"cid":"","sac":"","rac":"","enb":""}
  lastIp           "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255);
                   "2001:db8::%x:%x:%x" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
                   when i % 17 == 5
  lastRatType "1", lastRatTypeLabel "3G (UTRAN 1)", lastDataRatType "6",
  lastDataRatTypeLabel "4G (WB-EUTRAN 6)", lastApn "flolive.net"
  isInDataSession  i % 2 == 1
  with T = "%02d-%02d %02d:%02d:%02d.%06d" % (1 + i % 12, 1 + i % 28, i % 24, i % 60, (i // 60) % 60, i % 1000000):
  lastDataSession       "2021-" + T
  lastDataSessionRecord "2022-" + T
  firstActivatedTime    "2020-" + T
 Quirks (applied in this order of description, all may combine):
  i % 9 == 4   key "meisv" instead of "imeisv"
  i % 6 == 2   key "astDataRatTypeLabel" instead of "lastDataRatTypeLabel"
  i % 8 == 5   dailySmsUsage and dailyDataUsage are JSON strings ("23", "54.3")
  i % 11 == 7  lastIp is "" and firstActivatedTime is ""
  i % 13 == 6  lastDataSession is null and monthlySmsUsage is null
  i % 10 == 9  keys lastConnectedNetwork and isInDataSession absent
  i % 12 == 1  lastUsageLocation is "" (string instead of object)
 detail_obj() / subscriber_obj() below are the slow reference implementations
 (Python dicts); the fast renderer produces exactly json.dumps(obj, separators=(",",":")).

VARIED CUSTOMERS: cccccccc-0000-4000-9999-DDDDDDDDDDDD (12 decimal digits D, any
case) has N = int(D) subscribers, served by both customer endpoints, whose
records carry every quirk of the seeds and of issue 15, each in a share of the
records (the benchmark's main data set).  With a = i % 16, b = i % 9, c = i % 5,
d = i % 7 (a record's shape is a function of i % 5040):
  escaping style    a < 11 (11/16): every string is sent with non-ASCII as \\uXXXX
                    (surrogate pairs above U+FFFF), "/" as \\/ and & ' < > as
                    \\u0026 etc.; otherwise raw UTF-8.  " and \\ always escaped.
                    (About half of all records hold a \\u escape: 5/7 * 11/16.)
  subscriberId  "%08x-%s-4%s-b%s-%s0000000000" % (i, D[0:4], D[4:7], D[7:10], D[10:12])
  status        STATUSES[i % 4]
  imsiMsisdnPairs (the first profile's): count 1 + i % 2; pair k:
     imsi "21407" + D[-3:] + "%06d%d" % (i, k), msisdn "34" + D[-3:] + "%06d%d" % (i, k)
     isLastActive  k == count - 1, except all false when b == 3 or i % 35 == 13
  iccid (the first profile's)  "89445" + D[-4:] + "%010d" % (2 * i)
  extra members (a % 4 == 1): "simVersion":"2.1","tags":["iot","fleet"] after
     status, and "_links":{"self":{"href":"/api/v2/subscribers/<subscriberId>"}} last
  imei          "86%013d" % i    -- absent when c == 4 and i is odd
  imeisv        "86%013d%d" % (i, i % 10)  (key "meisv" when b == 7, details only)
  customerId, customerName: j = d; j in (0, 6): the customer itself (lower case),
     "Gualas LTD"; else "cccccccc-0000-4000-999<j>-" + D and V_NAMES[j]:
     1 "Caf\\u00e9 T\\u00e9l\\u00e9com", 2 "\\"Quoted\\" Logistics & Co", 3 "M\\u00fcller & S\\u00f6hne GmbH",
     4 "\\u6771\\u4eac IoT \\u682a\\u5f0f\\u4f1a\\u793e", 5 "Fleet/Ops \\U0001f69a Ltd"
customer_subscribers keys, in order: subscriberId, imsiMsisdnPairs, iccid, status,
  [simVersion, tags], imei, imeisv, customerId, customerName, [_links]
subscriber_details keys, in order: subscriberId, eId (b % 3 == 0: an eSIM,
  "89049032" + D[-5:] + "%016d" % i), profile, status, [simVersion, tags], imei,
  imeisv|meisv, customerId, customerName, the six usages, lastConnectedNetwork,
  lastUsageLocation, lastIp, lastRatType, lastRatTypeLabel, lastDataRatType,
  lastDataRatTypeLabel|astDataRatTypeLabel (c == 2), lastApn, isInDataSession,
  lastDataSession, lastDataSessionRecord, firstActivatedTime, [_links]
  profile       the first profile; an eSIM has a second one, iccid "89445" + D[-4:]
                + "%010d" % (2 * i + 1), pairs [{"imsi": "21407" + D[-3:] + "%06d9" % i,
                "msisdn": "34" + D[-3:] + "%06d9" % i, "isLastActive": b == 3 and
                i % 35 != 13}] (the active pair in the second profile when b == 3)
  SMS usages    daily i % 50, weekly i % 350, monthly i % 1500; sent as "%d.0" (12.0)
                when c == 1
  data usages   daily (i % 1000) / 10, weekly (i % 7000) / 10, monthly (i % 30000) / 10,
                one decimal; daily and monthly with 19 digits when c == 3:
                "%d.%015d" % (1000 + i % 9000, (i * M) % 10**15), M = 2654435761
                (daily), 1000003 (monthly)
  b == 4        all six usages sent as JSON strings of the same text ("12.0", "23")
  lastConnectedNetwork  "" when a == 6 (and isInDataSession absent); else
                {"mcc":"214","mnc":"%02d" % (i % 10),"plmn":"ESP%02d" % (i % 10),
                 "countryCode":COUNTRIES[i % 4]}
  lastUsageLocation     "" when a == 14; else {"mcc":"214","mnc":"07","lac":"",
                 "tac":"%d" % i,"cid":"","sac":"","rac":"","enb":""}
  lastIp        a == 8: "" (and firstActivatedTime ""); a in (3, 11): "2001:db8:%x::%x";
                a == 7: "2001:0DB8:0000:%04X:0000:0000:0000:%04X" (of i >> 16, i & 0xffff);
                a == 15: "::ffff:10.%d.%d.%d"; else "10.%d.%d.%d" (of the bytes of i
                as in the family above)
  lastRatType, lastDataRatType, both labels: V_RATS[d % 3]; lastApn V_APNS[i % 3]
  isInDataSession  i % 2 == 1
  timestamps    "%d-%02d-%02d%s%02d:%02d:%02d" % (year, 1 + i % 12, 1 + i % 28, sep,
                i % 24, i % 60, (i // 60) % 60), sep "T" when d in (1, 3, 5) else " ",
                then 0, 3 (".%03d" % ((i % 1000000) // 1000)) or 6 (".%06d" % (i % 1000000))
                fractional digits: with g = b // 3, lastDataSession 2023 with
                (0, 3, 6)[g] digits (null when d == 4 and a is even),
                lastDataSessionRecord 2024 with (0, 3, 6)[(g + 1) % 3],
                firstActivatedTime 2022 with (0, 3, 6)[(g + 2) % 3]
 varied_detail_obj() / varied_subscriber_obj() are the reference implementations
 (dicts; JNum holds a number's exact text), varied_dumps() their JSON text in the
 record's escaping style; render_varied() produces exactly that text.

SESSIONS GET /pcc/spcm/subscribers/{msisdn}/sessions (header tenant required:
  missing -> 400, wrong -> 403).  msisdn (percent-decoded) not all ASCII digits, or
  starting with "404" -> 404 {"message":"subscriber not found"}.  Else n = int(last
  digit) % 4 sessions; see sessions_obj() for the exact shapes.

FAULTS: base path /_fault/<spec>/...  spec = comma-separated key=value:
  delay=MS status=CODE error=CODE retry_after=S times=N after=N body=KIND
  trickle=BPS oversize=BYTES reset=1 redirect=1 pit_rotate=1 never_end=1
  pit_expire_after=N total=N id=STR seed=N lose=1 no_total=1
  total_pages=N total_elements=N (page answers state these totals) no_pageable=1
  (page answers without "pageable") ignore_page=1 (every page is page 1)
  empty_page=K (page K has no records) message_bytes=N (error= with an
  errorMessage of N bytes) cursor_bytes=N (each pitId padded to N bytes)
  tiny_records=BYTES (a sessions answer of about BYTES of {} records)
  body= no_records code_number code_escaped code_duplicate bad_member
  records_escaped: envelope edits of the customer endpoints' answers;
  body=wide_record: the first record gains an array of 70,000 numbers
  lose=1 handles the request in full (a point in time advances) and then
  resets the connection instead of answering: a response lost on the way.
  no_total=1 leaves out the total of a page (pageable.totalElements) or of a
  point-in-time chunk (totalRecordAmount), as an API that does not count.
  id= does nothing but make a spec string (and so its counter) unique.
  set=FIELD=V0|V1|...  (may be given several times) replaces the member FIELD
  of every record of customer_subscribers and subscriber_details: record i
  gets V[i % count], JSON text sent as given (so "\u00e9" stays escaped);
  an empty V removes the member, and a missing member is added at the end.
  The spec is percent-decoded before it is split, so values can hold any
  character but "," and "|" (percent-encode "/" and the like).
  body=fuzz mutates the normal body deterministically from seed= (default 0):
  1 to 3 of bit flips, byte insertions and deletions, truncation, swaps of
  brackets, quotes, commas and colons, huge numbers, deep nesting, duplicated
  spans, and values replaced by values of other JSON types (see fuzz_body()).
  slow=MS delays the answer like delay=, but only while active (see below).
  big_header=BYTES adds a response header "X-Padding" of that many bytes;
  gzip=1 sends the body gzip-compressed with "Content-Encoding: gzip",
  although the request never asked for it (no Accept-Encoding).
  Counter n = requests seen under this exact spec string since the last reset
  (1-based).  status/error/body/reset/redirect/lose/no_total/big_header/gzip/
  slow apply when
  after < n <= after + times (after defaults to 0, times to infinity).
  delay, trickle, oversize, pit_rotate, never_end, pit_expire_after, total
  always apply.  Unknown keys -> 400 {"errorCode":"SIM_FAULT",...}.

CONTROL (no auth): GET /_sim/log[?since=SEQ&path_contains=STR&settle=1],
  POST /_sim/reset, GET /_sim/stats.  A request is logged once its answer is
  sent; with settle=1 the log waits (up to 2 s) until every API request that
  has started (and whose path holds path_contains) is logged, so that a
  client that just read an answer finds it there.
"""

import argparse
import base64
import collections
import gzip
import json
import operator
import os
import random
import re
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATUSES = ("ACTIVE", "SUSPEND", "INACTIVE", "TERMINATED")
COUNTRIES = ("BRA", "DEU", "USA", "IRL")

CUST_RE = re.compile(r"^cccccccc-0000-4000-8000-([0-9]{12})$", re.I)
VARIED_RE = re.compile(r"^cccccccc-0000-4000-9999-([0-9]{12})$", re.I)
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# ---------------------------------------------------------------------------
# Reference implementation (slow, readable): Python objects
# ---------------------------------------------------------------------------

def _pairs_obj(S, i):
    count = 1 + i % 3
    out = []
    for k in range(count):
        p = {"imsi": "2220" + S[-5:] + "%05d%d" % (i, k)}
        if not (k == 1 and i % 4 == 1):
            p["msisdn"] = "99" + S[-4:] + "%07d%d" % (i, k)
        p["isLastActive"] = (k == i % count) and i % 7 != 3
        out.append(p)
    return out


def _base_obj(S, N, i):
    """Fields shared by both endpoints (the single definition of a subscriber)."""
    d = {
        "subscriberId": "%08x-%s-4%s-a%s-%s0000000000" % (i, S[0:4], S[4:7], S[7:10], S[10:12]),
        "imsiMsisdnPairs": _pairs_obj(S, i),
        "iccid": "8935711" + S[-6:] + "%07d" % i,
        "status": STATUSES[i % 4],
    }
    if i % 10 != 7:
        d["imei"] = "35430611%07d" % i
    d["imeisv"] = "35430611%07d01" % i
    if i % 5 == 4:
        d["customerId"] = "cccccccc-0000-4000-9000-" + S
        d["customerName"] = "Sub-customer " + str(N)
    else:
        d["customerId"] = "cccccccc-0000-4000-8000-" + S
        d["customerName"] = "Customer " + str(N)
    return d


def subscriber_obj(S, N, i):
    """customer_subscribers record i of customer S (12 digits), N subscribers."""
    return _base_obj(S, N, i)


def _dec1(k):
    return round(k * 0.1, 1)


def detail_obj(S, N, i):
    """subscriber_details record i (reference)."""
    b = _base_obj(S, N, i)
    d = {"subscriberId": b["subscriberId"]}
    if i % 3 == 0:
        d["eId"] = "0090923122299992" + "%013d" % i
    prof = [{"iccid": "8935711" + S[-6:] + "%06d%d" % (i, 0), "imsiMsisdnPairs": b["imsiMsisdnPairs"]}]
    if i % 2 == 1:
        prof.append({"iccid": "8935711" + S[-6:] + "%06d%d" % (i, 1),
                     "imsiMsisdnPairs": [{"imsi": "2230" + S[-5:] + "%05d9" % i,
                                          "msisdn": "99" + S[-4:] + "%07d9" % i,
                                          "isLastActive": False}]})
    d["profile"] = prof
    d["status"] = b["status"]
    if "imei" in b:
        d["imei"] = b["imei"]
    d["meisv" if i % 9 == 4 else "imeisv"] = b["imeisv"]
    d["customerId"] = b["customerId"]
    d["customerName"] = b["customerName"]
    if i % 8 == 5:
        d["dailySmsUsage"] = str(i % 50)
        d["dailyDataUsage"] = "%d.%d" % ((i % 1000) // 10, i % 10)
    else:
        d["dailySmsUsage"] = i % 50
        d["dailyDataUsage"] = _dec1(i % 1000)
    d["weeklySmsUsage"] = i % 350
    d["weeklyDataUsage"] = _dec1(i % 7000)
    d["monthlySmsUsage"] = None if i % 13 == 6 else i % 1500
    d["monthlyDataUsage"] = _dec1(i % 30000)
    if i % 10 != 9:
        d["lastConnectedNetwork"] = {"mcc": "724", "mnc": "%02d" % (i % 10),
                                     "plmn": "BRA%02d" % (i % 10), "countryCode": COUNTRIES[i % 4]}
    if i % 12 == 1:
        d["lastUsageLocation"] = ""
    else:
        d["lastUsageLocation"] = {"mcc": "734", "mnc": "04", "lac": "", "tac": "%d" % i,
                                  "cid": "", "sac": "", "rac": "", "enb": ""}
    if i % 11 == 7:
        d["lastIp"] = ""
    elif i % 17 == 5:
        d["lastIp"] = "2001:db8::%x:%x:%x" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
    else:
        d["lastIp"] = "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
    d["lastRatType"] = "1"
    d["lastRatTypeLabel"] = "3G (UTRAN 1)"
    d["lastDataRatType"] = "6"
    d["astDataRatTypeLabel" if i % 6 == 2 else "lastDataRatTypeLabel"] = "4G (WB-EUTRAN 6)"
    d["lastApn"] = "flolive.net"
    if i % 10 != 9:
        d["isInDataSession"] = i % 2 == 1
    T = "%02d-%02d %02d:%02d:%02d.%06d" % (1 + i % 12, 1 + i % 28, i % 24, i % 60, (i // 60) % 60, i % 1000000)
    d["lastDataSession"] = None if i % 13 == 6 else "2021-" + T
    d["lastDataSessionRecord"] = "2022-" + T
    d["firstActivatedTime"] = "" if i % 11 == 7 else "2020-" + T
    return d


def sessions_obj(msisdn):
    """Body of the sessions endpoint for a valid (all-digit, not 404...) msisdn."""
    n = int(msisdn[-1]) % 4
    if n == 0:
        return {"length": "0"}
    base = int(msisdn[-2:])
    sess = []
    for j in range(n):
        s = {"sessionId": "sess-%s-%d" % (msisdn, j)}
        v = (base + j) % 4
        rule = lambda r: {"ruleName": "r%d%d" % (j, r), "planName": "p%d%d" % (j, r), "planId": "%d%d" % (j, r)}
        if v == 1:
            s["installedRuleList"] = {"length": "1", "installedRule": rule(1)}
        elif v == 2:
            s["installedRuleList"] = {"length": "2", "installedRule": [rule(1), rule(2)]}
        elif v == 3:
            s["installedRuleList"] = {"length": "0"}
        w = (base + j + 1) % 3
        if w == 1:
            s["locationProfileList"] = {"length": "1", "locationProfile": {"name": "Limerick"}}
        elif w == 2:
            s["locationProfileList"] = {"length": "2", "locationProfile": [{"name": "Limerick"}, {"name": "Cork"}]}
        if j != 2:
            s["plmnId"] = "12300%d" % j
        sess.append(s)
    return {"length": str(n), "sessionInfo": sess[0] if n == 1 else sess}


# ---------------------------------------------------------------------------
# Fast renderer: per-shape %-templates + itemgetter over a per-record value tuple
# ---------------------------------------------------------------------------
# value tuple indices
V_I, V_DSMS, V_DD, V_D1, V_WSMS, V_WD, V_MSMS, V_MD, V_IP1, V_IP2, V_IP3, V_TS = range(12)


class _T:
    def __init__(self):
        self.parts = []
        self.idx = []

    def s(self, text):
        self.parts.append(text.replace("%", "%%"))

    def v(self, fmt, index):
        self.parts.append("%" + fmt)
        self.idx.append(index)

    def compile(self):
        fmt = "".join(self.parts)
        idx = list(self.idx)
        while len(idx) < 2:  # itemgetter with one index returns a scalar
            idx.append(V_I)
            fmt += "%.0s"
        return fmt, operator.itemgetter(*idx)


def _t_pairs(t, S, i):
    count = 1 + i % 3
    t.s('[')
    for k in range(count):
        if k:
            t.s(',')
        t.s('{"imsi":"2220' + S[-5:])
        t.v('05d', V_I)
        t.s('%d"' % k)
        if not (k == 1 and i % 4 == 1):
            t.s(',"msisdn":"99' + S[-4:])
            t.v('07d', V_I)
            t.s('%d"' % k)
        active = (k == i % count) and i % 7 != 3
        t.s(',"isLastActive":' + ("true" if active else "false") + '}')
    t.s(']')


def _t_cust(t, S, N, i):
    if i % 5 == 4:
        t.s(',"customerId":"cccccccc-0000-4000-9000-' + S + '","customerName":"Sub-customer ' + str(N) + '"')
    else:
        t.s(',"customerId":"cccccccc-0000-4000-8000-' + S + '","customerName":"Customer ' + str(N) + '"')


def _t_subid(t, S):
    t.s('{"subscriberId":"')
    t.v('08x', V_I)
    t.s("-%s-4%s-a%s-%s0000000000\"" % (S[0:4], S[4:7], S[7:10], S[10:12]))


def build_subscriber_template(S, N, i):
    """Template for customer_subscribers records with the same shape as i.
    Only residues of i are used here (shape key: i%4, i%3, i%5, i%7==3)."""
    t = _T()
    _t_subid(t, S)
    t.s(',"imsiMsisdnPairs":')
    _t_pairs(t, S, i)
    t.s(',"iccid":"8935711' + S[-6:])
    t.v('07d', V_I)
    t.s('","status":"' + STATUSES[i % 4] + '"')
    if i % 10 != 7:
        t.s(',"imei":"35430611')
        t.v('07d', V_I)
        t.s('"')
    t.s(',"imeisv":"35430611')
    t.v('07d', V_I)
    t.s('01"')
    _t_cust(t, S, N, i)
    t.s('}')
    return t.compile()


def build_detail_template(S, N, i):
    """Template for subscriber_details records with the same shape as i.
    Only residues of i are used (shape key: i%8, i%9, i%5, i%7==3, i%11==7,
    i%13==6, i%17==5)."""
    t = _T()
    _t_subid(t, S)
    if i % 3 == 0:
        t.s(',"eId":"0090923122299992')
        t.v('013d', V_I)
        t.s('"')
    t.s(',"profile":[{"iccid":"8935711' + S[-6:])
    t.v('06d', V_I)
    t.s('0","imsiMsisdnPairs":')
    _t_pairs(t, S, i)
    t.s('}')
    if i % 2 == 1:
        t.s(',{"iccid":"8935711' + S[-6:])
        t.v('06d', V_I)
        t.s('1","imsiMsisdnPairs":[{"imsi":"2230' + S[-5:])
        t.v('05d', V_I)
        t.s('9","msisdn":"99' + S[-4:])
        t.v('07d', V_I)
        t.s('9","isLastActive":false}]}')
    t.s('],"status":"' + STATUSES[i % 4] + '"')
    if i % 10 != 7:
        t.s(',"imei":"35430611')
        t.v('07d', V_I)
        t.s('"')
    t.s(',"meisv":"35430611' if i % 9 == 4 else ',"imeisv":"35430611')
    t.v('07d', V_I)
    t.s('01"')
    _t_cust(t, S, N, i)
    q = '"' if i % 8 == 5 else ''
    t.s(',"dailySmsUsage":' + q)
    t.v('d', V_DSMS)
    t.s(q + ',"dailyDataUsage":' + q)
    t.v('d', V_DD)
    t.s('.')
    t.v('d', V_D1)
    t.s(q + ',"weeklySmsUsage":')
    t.v('d', V_WSMS)
    t.s(',"weeklyDataUsage":')
    t.v('d', V_WD)
    t.s('.')
    t.v('d', V_D1)
    if i % 13 == 6:
        t.s(',"monthlySmsUsage":null')
    else:
        t.s(',"monthlySmsUsage":')
        t.v('d', V_MSMS)
    t.s(',"monthlyDataUsage":')
    t.v('d', V_MD)
    t.s('.')
    t.v('d', V_D1)
    if i % 10 != 9:
        t.s(',"lastConnectedNetwork":{"mcc":"724","mnc":"%02d","plmn":"BRA%02d","countryCode":"%s"}'
            % (i % 10, i % 10, COUNTRIES[i % 4]))
    if i % 12 == 1:
        t.s(',"lastUsageLocation":""')
    else:
        t.s(',"lastUsageLocation":{"mcc":"734","mnc":"04","lac":"","tac":"')
        t.v('d', V_I)
        t.s('","cid":"","sac":"","rac":"","enb":""}')
    if i % 11 == 7:
        t.s(',"lastIp":""')
    elif i % 17 == 5:
        t.s(',"lastIp":"2001:db8::')
        t.v('x', V_IP1)
        t.s(':')
        t.v('x', V_IP2)
        t.s(':')
        t.v('x', V_IP3)
        t.s('"')
    else:
        t.s(',"lastIp":"10.')
        t.v('d', V_IP1)
        t.s('.')
        t.v('d', V_IP2)
        t.s('.')
        t.v('d', V_IP3)
        t.s('"')
    t.s(',"lastRatType":"1","lastRatTypeLabel":"3G (UTRAN 1)","lastDataRatType":"6"')
    t.s(',"astDataRatTypeLabel"' if i % 6 == 2 else ',"lastDataRatTypeLabel"')
    t.s(':"4G (WB-EUTRAN 6)","lastApn":"flolive.net"')
    if i % 10 != 9:
        t.s(',"isInDataSession":' + ("true" if i % 2 == 1 else "false"))
    if i % 13 == 6:
        t.s(',"lastDataSession":null')
    else:
        t.s(',"lastDataSession":"2021-')
        t.v('s', V_TS)
        t.s('"')
    t.s(',"lastDataSessionRecord":"2022-')
    t.v('s', V_TS)
    t.s('"')
    if i % 11 == 7:
        t.s(',"firstActivatedTime":""')
    else:
        t.s(',"firstActivatedTime":"2020-')
        t.v('s', V_TS)
        t.s('"')
    t.s('}')
    return t.compile()


class _MarkS(str):
    """Stand-in for the customer digits S while building a customer-independent
    master template: slices become markers that are substituted per customer."""

    def __getitem__(self, k):
        return "\x01%s:%s\x02" % ("" if k.start is None else k.start, "" if k.stop is None else k.stop)


class _MarkN:
    def __str__(self):
        return "\x01N\x02"


_MS = _MarkS("\x01S\x02")
_MN = _MarkN()
_MARK_RE = re.compile("\x01(-?[0-9]*):(-?[0-9]*)\x02")
_masters = {}     # (kind, shape) -> (fmt str with markers, getter)
_tmpl_cache = {}  # (kind, S, N) -> {shape: (bytes fmt, getter)}


def _customer_template(kind, shape, i, S, N):
    m = _masters.get((kind, shape))
    if m is None:
        build = build_detail_template if kind == "d" else build_subscriber_template
        m = _masters[(kind, shape)] = build(_MS, _MN, i)
    fmt = _MARK_RE.sub(lambda mm: S[int(mm.group(1)) if mm.group(1) else None:
                                    int(mm.group(2)) if mm.group(2) else None], m[0])
    fmt = fmt.replace("\x01S\x02", S).replace("\x01N\x02", str(N)).replace("%s", "%b")
    return fmt.encode("ascii"), m[1]


def _crt(residues):
    """Smallest i >= 0 with i % m == r for all (r, m) (moduli pairwise coprime)."""
    i, M = 0, 1
    for r, m in residues:
        while i % m != r:
            i += M
        M *= m
    return i


def warm_masters():
    """Build every master template once (about a second of CPU); run in a
    background thread at start-up so that the first big scan is not slowed."""
    for r in range(60):
        for b7 in (False, True):
            i = _crt([(r, 60), (3 if b7 else 0, 7)])
            k = (i % 60, i % 7 == 3)
            if ("s", k) not in _masters:
                _masters[("s", k)] = build_subscriber_template(_MS, _MN, i)
    for r in range(360):
        for bits in range(16):
            i = _crt([(r, 360), (3 if bits & 1 else 0, 7), (7 if bits & 2 else 0, 11),
                      (6 if bits & 4 else 0, 13), (5 if bits & 8 else 0, 17)])
            k = (i % 360, i % 7 == 3, i % 11 == 7, i % 13 == 6, i % 17 == 5)
            if ("d", k) not in _masters:
                _masters[("d", k)] = build_detail_template(_MS, _MN, i)


def _templates(kind, S, N):
    key = (kind, S, N)
    d = _tmpl_cache.get(key)
    if d is None:
        if len(_tmpl_cache) > 64:
            _tmpl_cache.clear()
        d = _tmpl_cache[key] = {}
    return d


def render_subscribers(S, N, start, count):
    """List of record bytes start..start+count-1 for customer_subscribers."""
    if S[0] == "v":
        return render_varied("vs", S[1:], start, count)
    tc = _templates("s", S, N)
    out = []
    app = out.append
    for i in range(start, start + count):
        k = (i % 60, i % 7 == 3)
        t = tc.get(k)
        if t is None:
            t = tc[k] = _customer_template("s", k, i, S, N)
        app(t[0] % t[1]((i,)))
    return out


def render_details(S, N, start, count):
    """List of record bytes start..start+count-1 for subscriber_details."""
    if S[0] == "v":
        return render_varied("vd", S[1:], start, count)
    tc = _templates("d", S, N)
    pre, ms = _TS_PRE, _TS_MS
    out = []
    app = out.append
    for i in range(start, start + count):
        k = (i % 360, i % 7 == 3, i % 11 == 7, i % 13 == 6, i % 17 == 5)
        t = tc.get(k)
        if t is None:
            t = tc[k] = _customer_template("d", k, i, S, N)
        app(t[0] % t[1]((i, i % 50, (i % 1000) // 10, i % 10, i % 350, (i % 7000) // 10, i % 1500,
                          (i % 30000) // 10, (i >> 16) & 255, (i >> 8) & 255, i & 255,
                          pre[i % 168] + ms[i % 3600] + b"%06d" % (i % 1000000))))
    return out


# timestamp pieces: "MM-DD HH:" depends on i % 168, "MI:SS." on i % 3600
_TS_PRE = [b"%02d-%02d %02d:" % (1 + i % 12, 1 + i % 28, i % 24) for i in range(168)]
_TS_MS = [b"%02d:%02d." % (i % 60, (i // 60) % 60) for i in range(3600)]


# ---------------------------------------------------------------------------
# The varied family (customers cccccccc-0000-4000-9999-D, see the top)
# ---------------------------------------------------------------------------
# Every quirk of the seeds and of issue 15, each in a share of the records;
# a = i % 16, b = i % 9, c = i % 5, d = i % 7, and every choice of a record's
# shape is a function of i % 5040 (= 16 * 9 * 5 * 7).

V_NAMES = ("Gualas LTD", "Caf\u00e9 T\u00e9l\u00e9com", '"Quoted" Logistics & Co',
           "M\u00fcller & S\u00f6hne GmbH", "\u6771\u4eac IoT \u682a\u5f0f\u4f1a\u793e",
           "Fleet/Ops \U0001f69a Ltd", "Gualas LTD")
V_RATS = (("1", "3G (UTRAN 1)"), ("6", "4G (WB-EUTRAN 6)"), ("8", "NB-IoT/LTE-M (E-UTRAN 8)"))
V_APNS = ("flolive.net", "iot.1nce.net", "internet.m2m")
V_PERIOD = 5040


class JNum(str):
    """A JSON number sent as this exact text (12.0, 19 digits)."""


def _jstr(s, esc):
    """s as a JSON string: " and \\ escaped; with esc also "/" as \\/, and
    non-ASCII and & ' < > as \\uXXXX (surrogate pairs above U+FFFF)."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif o < 0x20:
            out.append("\\u%04x" % o)
        elif esc and ch == "/":
            out.append("\\/")
        elif esc and (o > 0x7e or ch in "&'<>"):
            if o > 0xffff:
                o -= 0x10000
                out.append("\\u%04x\\u%04x" % (0xd800 + (o >> 10), 0xdc00 + (o & 0x3ff)))
            else:
                out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def varied_dumps(v, esc):
    """JSON text of a reference object of the varied family (UTF-8 bytes)."""
    def d(v):
        if isinstance(v, dict):
            return "{" + ",".join(_jstr(k, esc) + ":" + d(x) for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ",".join(d(x) for x in v) + "]"
        if isinstance(v, JNum):
            return str.__str__(v)
        if isinstance(v, str):
            return _jstr(v, esc)
        return json.dumps(v)
    return d(v).encode("utf-8")


def varied_escaped(i):
    """Whether record i is sent in the escaping style (a < 11)."""
    return i % 16 < 11


def _v_sid(D, i):
    return "%08x-%s-4%s-b%s-%s0000000000" % (i, D[0:4], D[4:7], D[7:10], D[10:12])


def _v_pairs0(D, i):
    count = 1 + i % 2
    act = i % 9 != 3 and i % 35 != 13
    return [{"imsi": "21407" + D[-3:] + "%06d%d" % (i, k), "msisdn": "34" + D[-3:] + "%06d%d" % (i, k),
             "isLastActive": act and k == count - 1} for k in range(count)]


def _v_cust(D, i):
    j = i % 7
    if j in (0, 6):
        return "cccccccc-0000-4000-9999-" + D, V_NAMES[j]
    return "cccccccc-0000-4000-999%d-" % j + D, V_NAMES[j]


def _v_extras_head(i):
    return {"simVersion": "2.1", "tags": ["iot", "fleet"]} if i % 4 == 1 else {}


def _v_extras_tail(D, i):
    return ({"_links": {"self": {"href": "/api/v2/subscribers/" + _v_sid(D, i)}}}
            if i % 4 == 1 else {})


def varied_subscriber_obj(D, N, i):
    """customer_subscribers record i of varied customer D (reference)."""
    o = {"subscriberId": _v_sid(D, i), "imsiMsisdnPairs": _v_pairs0(D, i),
         "iccid": "89445" + D[-4:] + "%010d" % (2 * i), "status": STATUSES[i % 4]}
    o.update(_v_extras_head(i))
    if not (i % 5 == 4 and i % 2 == 1):
        o["imei"] = "86%013d" % i
    o["imeisv"] = "86%013d%d" % (i, i % 10)
    o["customerId"], o["customerName"] = _v_cust(D, i)
    o.update(_v_extras_tail(D, i))
    return o


def _v_ts(year, i, digits):
    t = "%d-%02d-%02d%s%02d:%02d:%02d" % (year, 1 + i % 12, 1 + i % 28, "T" if i % 7 in (1, 3, 5) else " ",
                                          i % 24, i % 60, (i // 60) % 60)
    if digits == 3:
        t += ".%03d" % ((i % 1000000) // 1000)
    elif digits == 6:
        t += ".%06d" % (i % 1000000)
    return t


def varied_detail_obj(D, N, i):
    """subscriber_details record i of varied customer D (reference)."""
    a, b, c, d = i % 16, i % 9, i % 5, i % 7
    o = {"subscriberId": _v_sid(D, i)}
    prof = [{"iccid": "89445" + D[-4:] + "%010d" % (2 * i), "imsiMsisdnPairs": _v_pairs0(D, i)}]
    if b % 3 == 0:
        o["eId"] = "89049032" + D[-5:] + "%016d" % i
        prof.append({"iccid": "89445" + D[-4:] + "%010d" % (2 * i + 1),
                     "imsiMsisdnPairs": [{"imsi": "21407" + D[-3:] + "%06d9" % i,
                                          "msisdn": "34" + D[-3:] + "%06d9" % i,
                                          "isLastActive": b == 3 and i % 35 != 13}]})
    o["profile"] = prof
    o["status"] = STATUSES[i % 4]
    o.update(_v_extras_head(i))
    if not (c == 4 and a % 2 == 1):
        o["imei"] = "86%013d" % i
    o["meisv" if b == 7 else "imeisv"] = "86%013d%d" % (i, i % 10)
    o["customerId"], o["customerName"] = _v_cust(D, i)

    def sms(v):
        return JNum("%d.0" % v) if c == 1 else v

    def data(v10, n19):
        if c == 3:
            return JNum("%d.%015d" % (1000 + i % 9000, (i * n19) % 10 ** 15))
        return JNum("%d.%d" % (v10 // 10, v10 % 10))
    u = [("dailySmsUsage", sms(i % 50)), ("dailyDataUsage", data(i % 1000, 2654435761)),
         ("weeklySmsUsage", sms(i % 350)), ("weeklyDataUsage", JNum("%d.%d" % ((i % 7000) // 10, i % 10))),
         ("monthlySmsUsage", sms(i % 1500)), ("monthlyDataUsage", data(i % 30000, 1000003))]
    for k, v in u:
        o[k] = str(v) if b == 4 else v
    if a == 6:
        o["lastConnectedNetwork"] = ""
    else:
        o["lastConnectedNetwork"] = {"mcc": "214", "mnc": "%02d" % (i % 10), "plmn": "ESP%02d" % (i % 10),
                                     "countryCode": COUNTRIES[i % 4]}
    if a == 14:
        o["lastUsageLocation"] = ""
    else:
        o["lastUsageLocation"] = {"mcc": "214", "mnc": "07", "lac": "", "tac": "%d" % i, "cid": "",
                                  "sac": "", "rac": "", "enb": ""}
    if a == 8:
        o["lastIp"] = ""
    elif a in (3, 11):
        o["lastIp"] = "2001:db8:%x::%x" % (i >> 16, i & 0xffff)
    elif a == 7:
        o["lastIp"] = "2001:0DB8:0000:%04X:0000:0000:0000:%04X" % (i >> 16, i & 0xffff)
    elif a == 15:
        o["lastIp"] = "::ffff:10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
    else:
        o["lastIp"] = "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
    rat, label = V_RATS[d % 3]
    o["lastRatType"], o["lastRatTypeLabel"], o["lastDataRatType"] = rat, label, rat
    o["astDataRatTypeLabel" if c == 2 else "lastDataRatTypeLabel"] = label
    o["lastApn"] = V_APNS[i % 3]
    if a != 6:
        o["isInDataSession"] = i % 2 == 1
    g = b // 3
    o["lastDataSession"] = None if d == 4 and a % 2 == 0 else _v_ts(2023, i, (0, 3, 6)[g])
    o["lastDataSessionRecord"] = _v_ts(2024, i, (0, 3, 6)[(g + 1) % 3])
    o["firstActivatedTime"] = "" if a == 8 else _v_ts(2022, i, (0, 3, 6)[(g + 2) % 3])
    o.update(_v_extras_tail(D, i))
    return o


# fast renderer of the varied family: one %-template per shape i % 5040
(W_I, W_DSMS, W_WSMS, W_MSMS, W_DD, W_WD, W_MD, W_D1, W_I19, W_F19A, W_F19B, W_IP1, W_IP2, W_IP3,
 W_IPH, W_IPL, W_DATE, W_HMS, W_MS, W_US, W_2I, W_2I1) = range(22)
_V_DATE = [b"%02d-%02d" % (1 + i % 12, 1 + i % 28) for i in range(84)]
_V_HMS = [b"%02d:%02d:%02d" % (i % 24, i % 60, (i // 60) % 60) for i in range(3600)]


def _vt_pairs0(t, D, i):
    count = 1 + i % 2
    act = i % 9 != 3 and i % 35 != 13
    t.s("[")
    for k in range(count):
        t.s(("," if k else "") + '{"imsi":"21407' + D[-3:])
        t.v("06d", W_I)
        t.s('%d","msisdn":"34' % k + D[-3:])
        t.v("06d", W_I)
        t.s('%d","isLastActive":%s}' % (k, "true" if act and k == count - 1 else "false"))
    t.s("]")


def _vt_sid(t, D, key='{"subscriberId":"'):
    t.s(key)
    t.v("08x", W_I)
    t.s("-%s-4%s-b%s-%s0000000000\"" % (D[0:4], D[4:7], D[7:10], D[10:12]))


def _vt_middle(t, D, i, esc, imeisv_key):
    """status, extra head members, imei, imeisv, customerId, customerName."""
    t.s(',"status":"%s"' % STATUSES[i % 4])
    if i % 4 == 1:
        t.s(',"simVersion":"2.1","tags":["iot","fleet"]')
    if not (i % 5 == 4 and i % 2 == 1):
        t.s(',"imei":"86')
        t.v("013d", W_I)
        t.s('"')
    t.s(',"%s":"86' % imeisv_key)
    t.v("013d", W_I)
    t.v("d", W_D1)
    j = i % 7
    cid = "cccccccc-0000-4000-999%s-" % ("9" if j in (0, 6) else str(j))
    t.s('","customerId":"' + cid + D + '","customerName":' + _jstr(V_NAMES[j], esc))


def _vt_tail(t, D, i, esc):
    if i % 4 == 1:
        t.s(',"_links":{"self":{"href":' + ('"\\/api\\/v2\\/subscribers\\/' if esc else '"/api/v2/subscribers/'))
        _vt_sid(t, D, "")
        t.s("}}")
    t.s("}")


def build_varied_subscriber_template(D, i):
    """Template for varied customer_subscribers records of i's shape."""
    esc = varied_escaped(i)
    t = _T()
    _vt_sid(t, D)
    t.s(',"imsiMsisdnPairs":')
    _vt_pairs0(t, D, i)
    t.s(',"iccid":"89445' + D[-4:])
    t.v("010d", W_2I)
    t.s('"')
    _vt_middle(t, D, i, esc, "imeisv")
    _vt_tail(t, D, i, esc)
    return t


def _vt_ts(t, year, i, digits):
    t.s('"%d-' % year)
    t.v("b", W_DATE)
    t.s("T" if i % 7 in (1, 3, 5) else " ")
    t.v("b", W_HMS)
    if digits == 3:
        t.s(".")
        t.v("03d", W_MS)
    elif digits == 6:
        t.s(".")
        t.v("06d", W_US)
    t.s('"')


def build_varied_detail_template(D, i):
    """Template for varied subscriber_details records of i's shape."""
    a, b, c, d = i % 16, i % 9, i % 5, i % 7
    esc = varied_escaped(i)
    t = _T()
    _vt_sid(t, D)
    if b % 3 == 0:
        t.s(',"eId":"89049032' + D[-5:])
        t.v("016d", W_I)
        t.s('"')
    t.s(',"profile":[{"iccid":"89445' + D[-4:])
    t.v("010d", W_2I)
    t.s('","imsiMsisdnPairs":')
    _vt_pairs0(t, D, i)
    t.s("}")
    if b % 3 == 0:
        t.s(',{"iccid":"89445' + D[-4:])
        t.v("010d", W_2I1)
        t.s('","imsiMsisdnPairs":[{"imsi":"21407' + D[-3:])
        t.v("06d", W_I)
        t.s('9","msisdn":"34' + D[-3:])
        t.v("06d", W_I)
        t.s('9","isLastActive":%s}]}' % ("true" if b == 3 and i % 35 != 13 else "false"))
    t.s("]")
    _vt_middle(t, D, i, esc, "meisv" if b == 7 else "imeisv")
    q = '"' if b == 4 else ""

    def sms(name, idx):
        t.s(',"%s":%s' % (name, q))
        t.v("d", idx)
        t.s((".0" if c == 1 else "") + q)

    def data(name, idx, f19):
        t.s(',"%s":%s' % (name, q))
        if c == 3 and f19 is not None:
            t.v("d", W_I19)
            t.s(".")
            t.v("015d", f19)
        else:
            t.v("d", idx)
            t.s(".")
            t.v("d", W_D1)
        t.s(q)
    sms("dailySmsUsage", W_DSMS)
    data("dailyDataUsage", W_DD, W_F19A)
    sms("weeklySmsUsage", W_WSMS)
    data("weeklyDataUsage", W_WD, None)
    sms("monthlySmsUsage", W_MSMS)
    data("monthlyDataUsage", W_MD, W_F19B)
    if a == 6:
        t.s(',"lastConnectedNetwork":""')
    else:
        t.s(',"lastConnectedNetwork":{"mcc":"214","mnc":"%02d","plmn":"ESP%02d","countryCode":"%s"}'
            % (i % 10, i % 10, COUNTRIES[i % 4]))
    if a == 14:
        t.s(',"lastUsageLocation":""')
    else:
        t.s(',"lastUsageLocation":{"mcc":"214","mnc":"07","lac":"","tac":"')
        t.v("d", W_I)
        t.s('","cid":"","sac":"","rac":"","enb":""}')
    if a == 8:
        t.s(',"lastIp":""')
    elif a in (3, 11):
        t.s(',"lastIp":"2001:db8:')
        t.v("x", W_IPH)
        t.s("::")
        t.v("x", W_IPL)
        t.s('"')
    elif a == 7:
        t.s(',"lastIp":"2001:0DB8:0000:')
        t.v("04X", W_IPH)
        t.s(":0000:0000:0000:")
        t.v("04X", W_IPL)
        t.s('"')
    else:
        t.s(',"lastIp":"::ffff:10.' if a == 15 else ',"lastIp":"10.')
        t.v("d", W_IP1)
        t.s(".")
        t.v("d", W_IP2)
        t.s(".")
        t.v("d", W_IP3)
        t.s('"')
    rat, label = V_RATS[d % 3]
    label = _jstr(label, esc)
    t.s(',"lastRatType":"%s","lastRatTypeLabel":%s,"lastDataRatType":"%s","%s":%s,"lastApn":"%s"'
        % (rat, label, rat, "astDataRatTypeLabel" if c == 2 else "lastDataRatTypeLabel", label,
           V_APNS[i % 3]))
    if a != 6:
        t.s(',"isInDataSession":' + ("true" if i % 2 == 1 else "false"))
    g = b // 3
    if d == 4 and a % 2 == 0:
        t.s(',"lastDataSession":null')
    else:
        t.s(',"lastDataSession":')
        _vt_ts(t, 2023, i, (0, 3, 6)[g])
    t.s(',"lastDataSessionRecord":')
    _vt_ts(t, 2024, i, (0, 3, 6)[(g + 1) % 3])
    if a == 8:
        t.s(',"firstActivatedTime":""')
    else:
        t.s(',"firstActivatedTime":')
        _vt_ts(t, 2022, i, (0, 3, 6)[(g + 2) % 3])
    _vt_tail(t, D, i, esc)
    return t


def _varied_template(kind, shape, D):
    """The compiled template of one shape for varied customer D."""
    m = _masters.get((kind, shape))
    if m is None:
        build = build_varied_detail_template if kind == "vd" else build_varied_subscriber_template
        m = _masters[(kind, shape)] = build(_MS, shape).compile()
    fmt = _MARK_RE.sub(lambda mm: D[int(mm.group(1)) if mm.group(1) else None:
                                    int(mm.group(2)) if mm.group(2) else None], m[0])
    return fmt.replace("\x01S\x02", D).encode("utf-8"), m[1]


def warm_varied_masters():
    """Build the varied family's master templates once, in the background."""
    for shape in range(V_PERIOD):
        for kind, build in (("vs", build_varied_subscriber_template), ("vd", build_varied_detail_template)):
            if (kind, shape) not in _masters:
                _masters[(kind, shape)] = build(_MS, shape).compile()


def render_varied(kind, D, start, count):
    """List of record bytes start..start+count-1 of varied customer D, for
    customer_subscribers (kind "vs") or subscriber_details ("vd")."""
    tc = _templates(kind, D, 0)
    dates, hms, e15 = _V_DATE, _V_HMS, 10 ** 15
    out = []
    app = out.append
    for i in range(start, start + count):
        k = i % V_PERIOD
        t = tc.get(k)
        if t is None:
            t = tc[k] = _varied_template(kind, k, D)
        app(t[0] % t[1]((i, i % 50, i % 350, i % 1500, (i % 1000) // 10, (i % 7000) // 10,
                          (i % 30000) // 10, i % 10, 1000 + i % 9000, (i * 2654435761) % e15,
                          (i * 1000003) % e15, (i >> 16) & 255, (i >> 8) & 255, i & 255, i >> 16,
                          i & 0xffff, dates[i % 84], hms[i % 3600], (i % 1000000) // 1000, i % 1000000,
                          2 * i, 2 * i + 1)))
    return out


class ChunkCache:
    """Bounded LRU of rendered content arrays (bytes) keyed by (kind, S, N, start, count)."""

    def __init__(self, limit=64 << 20):
        self.limit = limit
        self.max_item = 2 << 20  # big chunks (benchmark scans) are not worth caching
        self.size = 0
        self.d = collections.OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            v = self.d.get(key)
            if v is not None:
                self.d.move_to_end(key)
            return v

    def put(self, key, val):
        if len(val) > self.max_item:
            return
        with self.lock:
            if key in self.d:
                return
            self.d[key] = val
            self.size += len(val)
            while self.size > self.limit:
                _, old = self.d.popitem(last=False)
                self.size -= len(old)


CHUNKS = ChunkCache()


def content_bytes(kind, S, N, start, count):
    """JSON array text (bytes) of records start..start+count-1 ('s' or 'd')."""
    if count <= 0:
        return b"[]"
    key = (kind, S, N, start, count)
    v = CHUNKS.get(key)
    if v is None:
        recs = (render_details if kind == "d" else render_subscribers)(S, N, start, count)
        v = b"[" + b",".join(recs) + b"]"
        CHUNKS.put(key, v)
    return v


# ---------------------------------------------------------------------------
# Server state
# ---------------------------------------------------------------------------

class State:
    def __init__(self, cfg):
        self.cfg = cfg
        self.lock = threading.Lock()
        self.log = collections.deque(maxlen=200000)
        self.seq = 0
        self.connections = 0
        self.requests = 0
        self.unlogged = {}  # id -> path of API requests started, not yet logged
        self.fault_counts = {}
        self.pits = collections.OrderedDict()  # id -> dict
        self.pit_counter = 0
        basic = base64.b64encode(("%s:%s" % (cfg.username, cfg.password)).encode()).decode()
        self.basic = basic
        self.token = cfg.token

    def new_conn(self):
        with self.lock:
            self.connections += 1
            return self.connections

    def fault_hit(self, spec):
        with self.lock:
            n = self.fault_counts.get(spec, 0) + 1
            self.fault_counts[spec] = n
            return n

    def add_log(self, entry):
        with self.lock:
            self.seq += 1
            self.requests += 1
            entry["seq"] = self.seq
            self.log.append(entry)

    def reset(self):
        with self.lock:
            self.log.clear()
            self.fault_counts.clear()
            self.pits.clear()

    # pits --------------------------------------------------------------
    def pit_new(self, S, N, offset, expiry, extra=None):
        with self.lock:
            self.pit_counter += 1
            pid = "46To" + base64.b64encode(struct.pack(">Q", self.pit_counter) + b"\xfb\xffsim-pit").decode()
            now = time.time()
            if len(self.pits) >= 10000:
                for k in [k for k, p in self.pits.items() if p["expiry"] <= now]:
                    del self.pits[k]
                while len(self.pits) >= 10000:
                    self.pits.popitem(last=False)
            p = {"S": S, "N": N, "offset": offset, "expiry": expiry, "uses": 0}
            if extra:
                p.update(extra)
            self.pits[pid] = p
            return pid, p

    def pit_get(self, pid):
        with self.lock:
            p = self.pits.get(pid)
            if p is not None and p["expiry"] <= time.time():
                del self.pits[pid]
                p = None
            return p

    def pit_drop(self, pid):
        with self.lock:
            self.pits.pop(pid, None)


STATE = None


def jb(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def api_error(code, msg):
    return jb({"errorCode": code, "errorMessage": msg, "content": "", "pageable": ""})


FAULT_KEYS = {"delay", "status", "error", "retry_after", "times", "after", "body", "trickle",
              "oversize", "reset", "redirect", "pit_rotate", "never_end", "pit_expire_after", "total",
              "id", "seed", "lose", "total_pages", "total_elements", "no_pageable", "ignore_page",
              "empty_page", "message_bytes", "cursor_bytes", "tiny_records", "no_total", "set",
              "big_header", "gzip", "slow"}
BODY_KINDS = {"malformed", "truncated", "notjson", "content_string", "record_array", "deep",
              "bad_utf8", "nul", "bignum", "dupkey", "trailing", "empty", "lie_length", "fuzz",
              "no_records", "code_number", "code_escaped", "code_duplicate", "bad_member",
              "records_escaped", "wide_record"}
INT_KEYS = FAULT_KEYS - {"body", "error", "id", "set"}


def parse_fault(spec):
    f = {}
    for item in urllib.parse.unquote(spec).split(","):
        if not item:
            continue
        k, eq, v = item.partition("=")
        if k not in FAULT_KEYS or not eq:
            raise ValueError("unknown fault item %r" % item)
        if k in INT_KEYS:
            try:
                v = int(v)
            except ValueError:
                raise ValueError("fault %s needs an integer" % k)
        if k == "body" and v not in BODY_KINDS:
            raise ValueError("unknown body kind %r" % v)
        if k == "set":
            field, eq, values = v.partition("=")
            if not field or not eq:
                raise ValueError("fault set needs FIELD=VALUES")
            f.setdefault("set", []).append((field, values.split("|")))
            continue
        f[k] = v
    return f


class _Members(list):
    """A JSON object as its list of (name, value) pairs, in order."""


def _dump_kept(v):
    if isinstance(v, _Members):
        return "{" + ",".join(json.dumps(k) + ":" + _dump_kept(x) for k, x in v) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_dump_kept(x) for x in v) + "]"
    return json.dumps(v)


def set_fields(content, start, sets):
    """The content array with the members of fault set= replaced (see FAULTS)."""
    out = []
    for k, members in enumerate(json.loads(content, object_pairs_hook=_Members)):
        i = start + k
        repl = dict((field, values[i % len(values)]) for field, values in sets)
        parts = []
        for name, value in members:
            raw = repl.pop(name, None)
            if raw is None:
                parts.append(json.dumps(name) + ":" + _dump_kept(value))
            elif raw != "":
                parts.append(json.dumps(name) + ":" + raw)
        parts.extend(json.dumps(name) + ":" + raw for name, raw in repl.items() if raw != "")
        out.append("{" + ",".join(parts) + "}")
    return ("[" + ",".join(out) + "]").encode("utf-8")


class Resp:
    """A response: status, extra headers, body either plain (body) or an
    envelope around a content array (pre + content + post)."""
    __slots__ = ("status", "headers", "body", "pre", "content", "post", "records", "kind", "ctype",
                 "S", "N", "start")

    def __init__(self, status, body=None, records=-1, headers=None):
        self.status = status
        self.body = body
        self.headers = headers or []
        self.records = records
        self.pre = self.content = self.post = None
        self.kind = None
        self.ctype = "application/json"

    def full(self):
        if self.body is None:
            self.body = self.pre + self.content + self.post
        return self.body


# ---------------------------------------------------------------------------
# Endpoint handlers
# ---------------------------------------------------------------------------

def lookup_customer(raw_id, fault):
    cid = urllib.parse.unquote(raw_id)
    m = CUST_RE.match(cid)
    v = VARIED_RE.match(cid) if not m else None
    if v:
        return ("v" + v.group(1), fault.get("total", int(v.group(1)))), None
    if not m:
        if UUID_RE.match(cid):
            return None, Resp(404, api_error("CUSTOMER_1002", "Customer does not exist."))
        return None, Resp(400, api_error("GLOBAL_1000", "Invalid customer id"))
    S = m.group(1)
    N = fault.get("total", int(S))
    return (S, N), None


def h_subscribers(raw_id, query, fault):
    cust, err = lookup_customer(raw_id, fault)
    if err:
        return err
    S, N = cust
    q = urllib.parse.parse_qs(query, keep_blank_values=True)
    try:
        page = int(q.get("page", ["1"])[-1])
        size = int(q.get("size", ["10"])[-1])
        if not (1 <= size <= 10000 and page >= 1):
            raise ValueError
    except ValueError:
        return Resp(400, api_error("GLOBAL_1003", "Invalid paging parameters"))
    if fault.get("ignore_page"):
        page = 1
    start = (page - 1) * size
    if fault.get("never_end"):
        count = size
        total_pages = page + 1
        total_el = (page + 1) * size
    else:
        count = max(0, min(size, N - start))
        total_pages = (N + size - 1) // size
        total_el = N
    if fault.get("empty_page") == page:
        count = 0
    total_pages = fault.get("total_pages", total_pages)
    total_el = fault.get("total_elements", total_el)
    r = Resp(200, records=count)
    r.kind, r.S, r.N, r.start = "s", S, N, start
    r.pre = b'{"errorCode":"","errorMessage":"","content":'
    r.content = content_bytes("s", S, N, start, count)
    if fault.get("body") == "bignum" and fault.get("_active"):
        total_el = "123456789012345678901234567890"
    if fault.get("no_total") and fault.get("_active"):
        r.post = (',"pageable":{"page":%d,"size":%d,"totalPages":%d}}'
                  % (page, size, total_pages)).encode()
    else:
        r.post = (',"pageable":{"page":%d,"size":%d,"totalPages":%d,"totalElements":%s}}'
                  % (page, size, total_pages, total_el)).encode()
    if fault.get("no_pageable"):
        r.post = b"}"
    return r


def h_details(raw_id, body, fault):
    cust, err = lookup_customer(raw_id, fault)
    if err:
        return err
    S, N = cust
    try:
        req = json.loads(body.decode("utf-8"))
        if not isinstance(req, dict):
            raise ValueError
    except ValueError:
        return Resp(400, api_error("GLOBAL_1000", "Malformed request body"))
    pit_id = req.get("pitId") or ""
    if isinstance(pit_id, str) and fault.get("cursor_bytes"):
        pit_id = pit_id.split(".", 1)[0]
    size = req.get("size", 1000)
    if size is None:
        size = 1000
    if type(size) is not int or not 1 <= size <= 10000:
        return Resp(400, api_error("GLOBAL_1003", "Invalid size: must be 1..10000"))
    st = STATE
    if not isinstance(pit_id, str):
        return Resp(400, api_error("GLOBAL_1018", "Invalid point in time ID"))
    if pit_id == "":
        ka = req.get("pitKeepAlive", 1)
        if ka is None or ka == "":
            ka = 1
        if type(ka) is not int or not 1 <= ka <= 30:
            return Resp(400, api_error("GLOBAL_1003", "Invalid pitKeepAlive: must be 1..30"))
        pit_id, pit = st.pit_new(S, N, 0, time.time() + 60 * ka)
    else:
        pit = st.pit_get(pit_id)
        if pit is None or pit["S"] != S:
            return Resp(400, api_error("GLOBAL_1018", "Invalid point in time ID"))
        lim = fault.get("pit_expire_after")
        if lim is not None and pit["uses"] >= lim:
            st.pit_drop(pit_id)
            return Resp(400, api_error("GLOBAL_1018", "Invalid point in time ID"))
    with st.lock:
        offset = pit["offset"]
        if fault.get("never_end"):
            count = size
            total = offset + 2 * size
        else:
            count = max(0, min(size, pit["N"] - offset))
            total = pit["N"]
        pit["offset"] = offset + count
        pit["uses"] += 1
    if fault.get("pit_rotate"):
        st.pit_drop(pit_id)
        pit_id, _ = st.pit_new(pit["S"], pit["N"], pit["offset"], pit["expiry"],
                               {"uses": pit["uses"]})
    r = Resp(200, records=count)
    r.kind, r.S, r.N, r.start = "d", S, pit["N"], offset
    r.pre = b'{"errorCode":"","errorMessage":"","content":'
    r.content = content_bytes("d", S, pit["N"], offset, count)
    if fault.get("cursor_bytes"):
        pit_id = pit_id + "." + "x" * fault["cursor_bytes"]
    if fault.get("no_total") and fault.get("_active"):
        r.post = (',"pitId":%s,"recordAmount":%d,"pageable":""}'
                  % (json.dumps(pit_id), count)).encode()
    else:
        r.post = (',"pitId":%s,"recordAmount":%d,"totalRecordAmount":%d,"pageable":""}'
                  % (json.dumps(pit_id), count, total)).encode()
    return r


def h_sessions(raw_msisdn, tenant, fault):
    if tenant is None:
        return Resp(400, jb({"errors": [{"field": "tenant", "description": "tenant is mandatory"}]}))
    if tenant != STATE.cfg.tenant:
        return Resp(403, jb({"message": "forbidden"}))
    msisdn = urllib.parse.unquote(raw_msisdn)
    if not (msisdn.isascii() and msisdn.isdigit()) or msisdn.startswith("404"):
        return Resp(404, jb({"message": "subscriber not found"}))
    if fault.get("tiny_records"):
        n = max(1, (fault["tiny_records"] - 40) // 3)
        body = b'{"length":"%d","sessionInfo":[' % n + b"{}," * (n - 1) + b"{}]}"
        r = Resp(200, body, records=n)
        r.kind = "x"
        return r
    obj = sessions_obj(msisdn)
    n = int(obj["length"])
    r = Resp(200, jb(obj), records=n)
    r.kind = "x"
    return r


# ---------------------------------------------------------------------------
# Body mutations (fault body=KIND)
# ---------------------------------------------------------------------------

def _first_record_span(r):
    """(start, end) of the first record inside r.content, or None."""
    if r.content is None or r.content == b"[]" or r.kind not in ("s", "d"):
        return None
    first = (render_details if r.kind == "d" else render_subscribers)(r.S, r.N, r.start, 1)[0]  # bytes
    return 1, 1 + len(first)


_FUZZ_SWAP = {ord("{"): b"[", ord("["): b"{", ord("}"): b"]", ord("]"): b"}", ord('"'): b"'",
              ord(","): b":", ord(":"): b","}
_FUZZ_VALUES = (b"null", b"true", b"false", b"0", b"-1", b"1e400", b"-1e400", b"1.5e-400",
                b"123456789012345678901234567890", b"-9223372036854775809", b"18446744073709551616",
                b"0.000000000000000000000000001", b'""', b'"x"', b"[]", b"{}", b"[1,2]",
                b'{"a":1}', b'"\\u0000"', b'"\\ud800"', b'"\xff\xfe"', b'"2021-13-45 99:99:99"',
                b'"not-a-uuid"', b'"999.999.999.999"', b'"\\u00e9t\\u00e9"', b"NaN", b"-", b"1.", b".5")


def fuzz_body(body, seed):
    """Deterministic mutation of a JSON body by random.Random(seed): 1 to 3
    edits, each chosen from a fixed list.  Pure function of (body, seed)."""
    rnd = random.Random(seed)
    b = bytearray(body)
    for _ in range(rnd.randint(1, 3)):
        n = len(b)
        op = rnd.randrange(11)
        pos = rnd.randrange(n + 1) if n else 0
        if op == 0 and n:                      # bit flips
            for _ in range(rnd.randint(1, 4)):
                k = rnd.randrange(n)
                b[k] ^= 1 << rnd.randrange(8)
        elif op == 1:                          # insert random bytes
            b[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
        elif op == 2:                          # insert a structural byte
            b[pos:pos] = rnd.choice((b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b" ", b"\x00"))
        elif op == 3 and n:                    # delete a run of bytes
            del b[pos:pos + rnd.randint(1, 16)]
        elif op == 4 and n:                    # truncate
            del b[rnd.randrange(n):]
        elif op == 5:                          # swap structural characters
            idx = [k for k in range(n) if b[k] in _FUZZ_SWAP]
            for k in rnd.sample(idx, min(len(idx), rnd.randint(1, 3))):
                b[k:k + 1] = _FUZZ_SWAP[b[k]]
        elif op == 6:                          # replace a scalar value by another kind
            ms = list(re.finditer(rb':("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null)', bytes(b)))
            if ms:
                m = rnd.choice(ms)
                b[m.start(1):m.end(1)] = rnd.choice(_FUZZ_VALUES)
        elif op == 7:                          # a value wrapped in deep nesting
            ms = list(re.finditer(rb':("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null)', bytes(b)))
            if ms:
                m = rnd.choice(ms)
                d = rnd.choice((10, 63, 64, 65, 200, 5000))
                b[m.start(1):m.end(1)] = b"[" * d + m.group(1) + b"]" * d
        elif op == 8 and n:                    # duplicate a span
            e = min(n, pos + rnd.randint(1, 64))
            b[e:e] = b[pos:e]
        elif op == 9:                          # a number grows huge
            ms = list(re.finditer(rb"[0-9]+", bytes(b)))
            if ms:
                m = rnd.choice(ms)
                b[m.end():m.end()] = b"9" * rnd.choice((20, 40, 400, 5000))
        elif op == 10 and n:                   # replace a key of an object by another key
            ms = list(re.finditer(rb'"([A-Za-z]+)":', bytes(b)))
            if len(ms) > 1:
                m1, m2 = rnd.sample(ms, 2)
                b[m1.start(1):m1.end(1)] = m2.group(1)
    return bytes(b)


def mutate_body(r, kind):
    """Apply body=KIND to r; returns (body_bytes, content_type, lie)."""
    if kind == "notjson":
        return b"<html>oops</html>", "text/html", False
    if kind == "empty":
        return b"", r.ctype, False
    if kind == "truncated":
        b = r.full()
        return b[: len(b) // 2], r.ctype, False
    if kind == "trailing":
        return r.full() + b" garbage", r.ctype, False
    if kind == "lie_length":
        return r.full(), r.ctype, True
    if kind == "content_string":
        if r.content is not None:
            return r.pre + b'"oops"' + r.post, r.ctype, False
        return r.full(), r.ctype, False
    envelope_edits = {
        # a success without the member holding the records
        "no_records": (b',"content":[', b',"ignored":['),
        # error codes that a loose reader takes for "no error"
        "code_number": (b'"errorCode":""', b'"errorCode":1006'),
        "code_escaped": (b'"errorCode":""', b'"error\\u0043ode":"CUSTOMER_1006"'),
        "code_duplicate": (b'"errorCode":""', b'"errorCode":"CUSTOMER_1006","errorCode":""'),
        # invalid JSON in a member nobody reads
        "bad_member": (b'"errorCode":""', b'"x":tru,"errorCode":""'),
        # the records under an escaped name
        "records_escaped": (b'"content":', b'"cont\\u0065nt":'),
    }
    if kind in envelope_edits:
        old, new = envelope_edits[kind]
        return r.full().replace(old, new, 1), r.ctype, False
    span = _first_record_span(r)
    if span is None:
        # no record to work on: apply to the whole body
        b = r.full()
        rec_s, rec_e = 0, len(b)
        pre, rec, post = b"", b, b""
    else:
        pre = r.pre + r.content[: span[0]]
        rec = r.content[span[0]: span[1]]
        post = r.content[span[1]:] + r.post
    if kind == "malformed":
        p = rec.find(b',"')
        if p >= 0:
            rec = rec[:p] + rec[p + 1:]
    elif kind == "record_array":
        if span is not None:
            rec = b"[1,2]"
        else:
            rec = rec.replace(b'"content":[]', b'"content":[[1,2]]', 1)
    elif kind == "deep":
        deep = b'"a":' + b"[" * 10000 + b"]" * 10000
        if span is not None:
            rec = b"{" + deep + b"," + rec[1:]
        elif rec.find(b'"content":[]') >= 0:
            rec = rec.replace(b'"content":[]', b'"content":[{' + deep + b"}]", 1)
        else:
            rec = b"{" + deep + b"," + rec[1:]
    elif kind in ("bad_utf8", "nul"):
        ins = b"\xff\xfe" if kind == "bad_utf8" else b"\\u0000"
        for key in (b'"status":"', b'"sessionId":"', b'"message":"', b'":"'):
            p = rec.find(key)
            if p >= 0:
                p += len(key)
                rec = rec[:p] + ins + rec[p:]
                break
    elif kind == "wide_record":
        if span is not None:
            rec = b'{"wide":[' + b",".join([b"0"] * 70000) + b"]," + rec[1:]
    elif kind == "bignum":
        rec = re.sub(rb'"dailySmsUsage":"?[0-9.]*"?', b'"dailySmsUsage":1e400', rec, count=1)
        rec = re.sub(rb'"monthlySmsUsage":(null|[0-9]+)',
                     b'"monthlySmsUsage":123456789012345678901234567890', rec, count=1)
    elif kind == "dupkey":
        m = re.search(rb'"(status|sessionId|message)":"[^"]*"', rec)
        if m:
            rec = rec[: m.end()] + b',"' + m.group(1) + b'":"DUPLICATE"' + rec[m.end():]
    return pre + rec + post, r.ctype, False


# ---------------------------------------------------------------------------
# HTTP handler
# ---------------------------------------------------------------------------

REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}

R_SUBS = re.compile(r"^/api/v2/customer/([^/]+)/subscriber$")
R_DET = re.compile(r"^/api/v2/customer/([^/]+)/subscriber-all-details$")
R_SESS = re.compile(r"^/pcc/spcm/subscribers/([^/]+)/sessions$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "subscriber-sim/1.0"
    sys_version = ""

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.conn_id = STATE.new_conn()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def handle(self):
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (OSError, ssl.SSLError):
                return
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, OSError):
            pass

    def parse_request(self):
        self.t0 = time.time()
        return super().parse_request()

    # -- low level output ------------------------------------------------
    def _head(self, status, ctype, length, extra):
        lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status")),
                 "Server: subscriber-sim", "Content-Type: " + ctype]
        if length is not None:
            lines.append("Content-Length: %d" % length)
        for k, v in extra:
            lines.append("%s: %s" % (k, v))
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send_pieces(self, pieces, trickle):
        w = self.wfile
        if not trickle:
            for p in pieces:
                w.write(p)
            return
        step = max(1, min(4096, trickle // 20))
        for p in pieces:
            for o in range(0, len(p), step):
                w.write(p[o:o + step])
                time.sleep(min(step, len(p) - o) / trickle)

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = []
            while True:
                line = self.rfile.readline(65537)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out.append(self.rfile.read(n))
                self.rfile.readline(65537)
            return b"".join(out)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    # -- control endpoints -----------------------------------------------
    def _control(self, path, query):
        st = STATE
        if path == "/_sim/log" and self.command == "GET":
            q = urllib.parse.parse_qs(query)
            since = int(q.get("since", ["0"])[-1])
            pc = q.get("path_contains", [None])[-1]
            if q.get("settle", ["0"])[-1] == "1":
                deadline = time.time() + 2
                while time.time() < deadline:
                    with st.lock:
                        busy = any(pc is None or pc in p for p in st.unlogged.values())
                    if not busy:
                        break
                    time.sleep(0.01)
            with st.lock:
                ents = [e for e in st.log if e["seq"] > since and (pc is None or pc in e["path"])]
            body = jb(ents)
        elif path == "/_sim/reset" and self.command == "POST":
            st.reset()
            body = b'{"ok":true}'
        elif path == "/_sim/stats" and self.command == "GET":
            with st.lock:
                body = jb({"connections": st.connections, "requests": st.requests})
        else:
            body = b'{"error":"unknown control endpoint"}'
            self.wfile.write(self._head(404, "application/json", len(body), []) + body)
            return
        self.wfile.write(self._head(200, "application/json", len(body), []) + body)

    # -- main dispatch ---------------------------------------------------
    def _dispatch(self):
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        raw = self.path
        path, _, query = raw.partition("?")
        if path.startswith("/_sim/"):
            return self._control(path, query)
        hdr = self.headers
        auth = hdr.get("Authorization")
        scheme = None
        if auth:
            sch = auth.split(" ", 1)[0].lower()
            scheme = sch if sch in ("basic", "bearer") else None
        entry = {"seq": 0, "conn": self.conn_id, "method": self.command, "path": raw,
                 "body": body.decode("utf-8", "replace"), "tenant": hdr.get("tenant"),
                 "accept": hdr.get("Accept"), "auth": scheme, "status": 0,
                 "start": self.t0, "end": 0.0, "records": -1}
        with STATE.lock:
            STATE.unlogged[id(entry)] = raw
        try:
            self._serve(path, query, body, entry)
        finally:
            entry["end"] = time.time()
            STATE.add_log(entry)
            with STATE.lock:
                del STATE.unlogged[id(entry)]

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def _abort(self):
        """Closes the connection with a TCP reset, answering nothing."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass

    def _reply(self, entry, status, body, ctype="application/json", headers=(), records=-1):
        entry["status"] = status
        entry["records"] = records
        self.wfile.write(self._head(status, ctype, len(body), list(headers)) + body)

    def _serve(self, path, query, body, entry):
        st = STATE
        fault = {}
        if path.startswith("/_fault/"):
            rest = path[len("/_fault/"):]
            spec, slash, rest = rest.partition("/")
            path = "/" + rest
            try:
                fault = parse_fault(spec)
            except ValueError as e:
                return self._reply(entry, 400, jb({"errorCode": "SIM_FAULT", "errorMessage": str(e)}))
            n = st.fault_hit(spec)
            after = fault.get("after", 0)
            times = fault.get("times")
            fault["_active"] = n > after and (times is None or n <= after + times)
        if fault.get("delay"):
            time.sleep(fault["delay"] / 1000.0)
        if fault.get("slow") and fault["_active"]:
            time.sleep(fault["slow"] / 1000.0)
        # authentication
        auth = self.headers.get("Authorization") or ""
        ok = False
        if entry["auth"] == "basic":
            ok = auth.split(" ", 1)[1].strip() == st.basic if " " in auth else False
        elif entry["auth"] == "bearer":
            ok = auth.split(" ", 1)[1].strip() == st.token if " " in auth else False
        if not ok:
            return self._reply(entry, 401, b'{"errorCode":"AUTH_401","errorMessage":"Unauthorized"}',
                               headers=[("WWW-Authenticate", 'Basic realm="sim"')])
        active = fault.get("_active", False)
        extra = []
        if "retry_after" in fault:
            extra.append(("Retry-After", str(fault["retry_after"])))
        m_subs = R_SUBS.match(path)
        m_det = R_DET.match(path) if not m_subs else None
        m_sess = R_SESS.match(path) if not (m_subs or m_det) else None
        if active and fault.get("reset"):
            entry["status"] = 0
            self._abort()
            return
        if active and fault.get("redirect"):
            b = b'{"errorCode":"","errorMessage":"moved"}'
            return self._reply(entry, 302, b, headers=[
                ("Location", "/api/v2/customer/cccccccc-0000-4000-8000-000000000001/subscriber")])
        if active and "status" in fault:
            code = fault["status"]
            if code == 404 and m_sess:
                b = b'{"message":"subscriber not found"}'
            else:
                b = jb({"errorCode": "", "errorMessage": "simulated %d" % code})
            return self._reply(entry, code, b, headers=extra)
        if active and "error" in fault:
            c = fault["error"]
            msg = "simulated " + c
            if fault.get("message_bytes"):
                # a character outside Latin-1, so that converting it can fail
                msg = msg + " " + "\u20ac" * (fault["message_bytes"] // 3)
            return self._reply(entry, 200, jb({"errorCode": c, "errorMessage": msg,
                                               "content": "", "pageable": ""}), headers=extra)
        # normal handling
        if m_subs:
            if self.command != "GET":
                return self._reply(entry, 405, api_error("GLOBAL_405", "Method not allowed"),
                                   headers=[("Allow", "GET")])
            r = h_subscribers(m_subs.group(1), query, fault)
        elif m_det:
            if self.command != "POST":
                return self._reply(entry, 405, api_error("GLOBAL_405", "Method not allowed"),
                                   headers=[("Allow", "POST")])
            r = h_details(m_det.group(1), body, fault)
        elif m_sess:
            if self.command != "GET":
                return self._reply(entry, 405, jb({"message": "method not allowed"}),
                                   headers=[("Allow", "GET")])
            r = h_sessions(m_sess.group(1), self.headers.get("tenant"), fault)
        else:
            r = Resp(404, api_error("GLOBAL_404", "No such endpoint"))
        entry["status"] = r.status
        entry["records"] = r.records
        if "set" in fault and r.content is not None and r.kind in ("s", "d"):
            r.content = set_fields(r.content, r.start, fault["set"])
        if active and fault.get("lose"):
            entry["status"] = 0
            self._abort()
            return
        hdrs = list(r.headers)
        lie = False
        ctype = r.ctype
        if active and fault.get("body") == "fuzz":
            bodyb, ctype, lie = fuzz_body(r.full(), fault.get("seed", 0)), ctype, False
        elif active and "body" in fault:
            bodyb, ctype, lie = mutate_body(r, fault["body"])
        else:
            bodyb = None
        if active and (fault.get("gzip") or fault.get("big_header")):
            if bodyb is None:
                bodyb = r.full()
            if fault.get("gzip"):
                bodyb = gzip.compress(bodyb)
                hdrs.append(("Content-Encoding", "gzip"))
            if fault.get("big_header"):
                hdrs.append(("X-Padding", "x" * fault["big_header"]))
        trickle = fault.get("trickle")
        oversize = fault.get("oversize")
        if oversize:
            b = bodyb if bodyb is not None else r.full()
            pad = max(0, oversize - len(b) + 16)
            p = b.rfind(b"}")
            if p < 0:
                p = len(b)
            head_part = b[:p] + b',"padding":"'
            tail_part = b'"' + b[p:]
            total = len(head_part) + pad + len(tail_part)

            def gen():
                yield head_part
                blk = b"x" * 65536
                left = pad
                while left > 0:
                    k = min(left, 65536)
                    yield blk if k == 65536 else blk[:k]
                    left -= k
                yield tail_part
            self.wfile.write(self._head(r.status, ctype, total, hdrs))
            self._send_pieces(gen(), trickle)
            return
        if bodyb is None:
            if r.body is None and not trickle:
                # big envelope: avoid concatenating 10 MB twice
                head = self._head(r.status, ctype, len(r.pre) + len(r.content) + len(r.post), hdrs)
                if len(r.content) > 65536:
                    self.wfile.write(head + r.pre)
                    self.wfile.write(r.content)
                    self.wfile.write(r.post)
                else:
                    self.wfile.write(head + r.pre + r.content + r.post)
                return
            bodyb = r.full()
        if lie:
            self.close_connection = True
            self.wfile.write(self._head(r.status, ctype, len(bodyb) + 1000, hdrs))
            self._send_pieces([bodyb], trickle)
            return
        head = self._head(r.status, ctype, len(bodyb), hdrs)
        if trickle:
            self.wfile.write(head)
            self._send_pieces([bodyb], trickle)
        else:
            self.wfile.write(head + bodyb)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):
        pass


def _tune_malloc():
    """Keep freed memory of the multi-megabyte chunk bodies in the heap instead
    of returning it to the kernel after every response: page faults otherwise
    dominate the cost of a scan (measured: about 1.5x throughput)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        libc.mallopt(-1, 512 << 20)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD (32 MB is the largest accepted)
    except (OSError, AttributeError):
        pass


def main(argv=None):
    global STATE
    _tune_malloc()
    ap = argparse.ArgumentParser(description="subscriber API simulator")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--username", default="sim")
    ap.add_argument("--password", default="sim-secret")
    ap.add_argument("--token", default="sim-token")
    ap.add_argument("--tenant", default="acme")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--chunk-cache-mb", type=int, default=0)
    cfg = ap.parse_args(argv)
    if bool(cfg.tls_cert) != bool(cfg.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    STATE = State(cfg)
    if cfg.chunk_cache_mb > 0:
        CHUNKS.limit = CHUNKS.max_item = cfg.chunk_cache_mb << 20
    if ":" in cfg.host:
        Server.address_family = socket.AF_INET6
    srv = Server((cfg.host, cfg.port), Handler)
    scheme = "http"
    if cfg.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https"
    port = srv.server_address[1]
    host = cfg.host
    if ":" in host:
        host = "[" + host + "]"
    if cfg.port_file:
        tmp = cfg.port_file + ".tmp.%d" % os.getpid()
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, cfg.port_file)
    threading.Thread(target=warm_masters, daemon=True).start()
    threading.Thread(target=warm_varied_masters, daemon=True).start()
    sys.stdout.write("listening on %s://%s:%d\n" % (scheme, host, port))
    sys.stdout.flush()

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.5)
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
