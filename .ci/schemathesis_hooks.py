"""Schemathesis hooks for Limelight: rules between fields that JSON Schema cannot say.

Every rule here is also in the OpenAPI document's descriptions and enforced by the
server with a 422 that names the field. Schemathesis draws each field on its own, so
a schema-valid case can still break one of these rules; in positive mode this file
bends such a case until it keeps them, so that a refusal of a positive case is a
real finding. Negative cases are left as drawn. In the stateful phase, what a body
names (scenes, cue lists, canvases, venues, events, users) is what the server has.
"""

import copy
import json
import os
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone

import schemathesis
from schemathesis import GenerationMode
from schemathesis.generation.meta import TestPhase

LAST_UNIVERSE = 63999
MAX_SEATS = 100_000


def _positive(case):
    # The stateful phase draws positive data: its steps keep the rules too.
    if _stateful(case):
        return True
    return case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE


def _stateful(case):
    return case.meta is not None and case.meta.phase.name == TestPhase.STATEFUL


def _get(path):
    """GET `path` from the server under test (`.ci/schemathesis.sh` passes its address
    and token); a page's items or the list."""
    request = urllib.request.Request(
        os.environ["LIMELIGHT_URL"] + path,
        headers={"Authorization": "Bearer " + os.environ["LIMELIGHT_TOKEN"]},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            found = json.load(answer)
    except urllib.error.HTTPError:
        # The run may have demoted or removed the user whose token this is.
        return []
    return found["items"] if isinstance(found, dict) else found


# What a body may name, and where the server lists what exists: key -> (path, field).
REFERENCES = {
    "scene": ("/api/v1/scenes", "name"),
    "cue_list": ("/api/v1/cue-lists", "id"),
    "targets": ("/api/v1/canvases", "id"),
    "canvases": ("/api/v1/canvases", "id"),
    "venue": ("/api/v1/venues", "id"),
    "event": ("/api/v1/events", "id"),
    "user": ("/api/v1/users", "id"),
}


def _existing(value, known):
    """Every scene, cue list, canvas, venue, event or user named in `value` that the
    server does not have becomes one it has. In the stateful phase the resource a
    link leads to must be found, and a 404 for something named in the body would
    look as if the linked resource were missing."""
    if isinstance(value, list):
        for item in value:
            _existing(item, known)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key not in REFERENCES or item is None:
            _existing(item, known)
            continue
        if key not in known:
            path, field = REFERENCES[key]
            known[key] = [entry[field] for entry in _get(path)]
        have = known[key]
        if not have:
            continue
        if key in ("targets", "canvases"):
            if isinstance(item, list):
                value[key] = [t if t in have else have[0] for t in item]
                value[key] = list(dict.fromkeys(value[key]))
        elif item not in have:
            value[key] = have[0]


def _instant(text):
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None


def _ends_after_starts(body, starts="starts_at", ends="ends_at"):
    """`ends` must be after `starts` (events, sessions)."""
    start, end = _instant(body.get(starts)), _instant(body.get(ends))
    if start is not None and end is not None and end <= start:
        body[ends] = (start + timedelta(hours=1)).isoformat()


def _whole(value):
    """`value` as an int when it is a whole number (JSON does not tell 3 from 3.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _placed(geometry):
    """How many pixels a geometry places; None when it cannot be told."""
    if not isinstance(geometry, dict):
        return None
    kind = geometry.get("kind")
    if kind == "matrix":
        width, height = _whole(geometry.get("width")), _whole(geometry.get("height"))
        return width * height if width is not None and height is not None else None
    if kind == "strips" and isinstance(geometry.get("strips"), list):
        counts = [_whole(s.get("pixels")) if isinstance(s, dict) else None for s in geometry["strips"]]
        return None if None in counts else sum(counts)
    if kind == "points" and isinstance(geometry.get("points"), list):
        return len(geometry["points"])
    return None


def _canvas(body):
    """A geometry gives the pixel count (a `pixels` beside it must agree), and a
    canvas's universes must end at or before 63999."""
    placed = _placed(body.get("geometry"))
    if placed is not None:
        if placed > 1_000_000:
            body.pop("geometry")
            body.setdefault("pixels", 170)
        elif "pixels" in body:
            body["pixels"] = placed
    elif body.get("geometry") is None and body.get("pixels") is None:
        body.pop("geometry", None)
        body["pixels"] = 170
    output, pixels = body.get("output"), _whole(body.get("pixels"))
    if pixels is None:
        pixels = _placed(body.get("geometry"))
    if not isinstance(output, dict) or pixels is None:
        return
    if output.get("packing") == "channel":
        per_universe = 512
    else:
        per_universe = 3 * (_whole(output.get("pixels_per_universe")) or 170)
    needed = -(-pixels * 3 // per_universe)
    universe = _whole(output.get("universe"))
    if universe is not None and universe + needed - 1 > LAST_UNIVERSE:
        output["universe"] = LAST_UNIVERSE - needed + 1


def _cue_list(body):
    """Cue numbers are unique within a list (as text: 1 and "1" are the same cue)."""
    cues = body.get("cues")
    if not isinstance(cues, list):
        return
    seen = set()
    for i, cue in enumerate(cues):
        if not isinstance(cue, dict):
            continue
        number = cue.get("number")
        text = str(_whole(number) if _whole(number) is not None else number)
        if text in seen:
            cue["number"] = f"x{i}"
            text = cue["number"]
        seen.add(text)


def _session(body):
    """Without a seat map a capacity is needed; with one, the capacity follows from it
    (a capacity given must agree).
    Row labels are unique, and a blocked seat is a seat of its row."""
    _ends_after_starts(body)
    seat_map = body.get("seat_map")
    if seat_map is None:
        if body.get("capacity") is None:
            body["capacity"] = 100
        return
    body.pop("capacity", None)
    rows = [row for row in seat_map.get("rows") or [] if isinstance(row, dict)]
    if sum(_whole(row.get("seats")) or 0 for row in rows) > MAX_SEATS:
        for row in rows:
            row["seats"] = max(1, MAX_SEATS // len(rows))
    labels = set()
    for i, row in enumerate(rows):
        if row.get("row") in labels:
            row["row"] = f"R{i}"
        labels.add(row.get("row"))
        seats = _whole(row.get("seats"))
        if seats is not None and isinstance(row.get("blocked"), list):
            row["blocked"] = [b for b in row["blocked"] if 1 <= (_whole(b) or 0) <= seats]


# Recurrence rules the server takes; a drawn string is almost never an RFC 5545 rule
# (the server answers 422 naming the fault), so a positive case uses one of these.
RULES = [
    "FREQ=DAILY",
    "FREQ=WEEKLY;BYDAY=FR,SA",
    "FREQ=DAILY;INTERVAL=2;COUNT=10",
    "FREQ=MONTHLY;BYMONTHDAY=1",
    "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24",
]


def _schedule(body):
    """`valid_until` is not before `valid_from` nor before the start date; stopping
    with `finish_cue_list` needs a cue list to play; the rrule is a recurrence rule
    (by days for a sun-relative start); exdates need an rrule; an end time is not
    the start time."""
    start = body.get("start")
    rrule = body.get("rrule")
    if isinstance(rrule, str) and rrule not in RULES:
        body["rrule"] = RULES[sum(map(ord, rrule)) % len(RULES)]
    if body.get("rrule") is None and body.get("exdates"):
        body["exdates"] = []
    end = body.get("end")
    if isinstance(start, dict) and isinstance(end, dict):
        clock = lambda t: t + ":00" if isinstance(t, str) and len(t) == 5 else t  # noqa: E731
        if start.get("time") is not None and clock(end.get("time")) == clock(start.get("time")):
            end.clear()
            end["duration_s"] = 3600
    start = body.get("start")
    first = None
    if isinstance(start, dict):
        try:
            first = date.fromisoformat(start.get("date"))
        except (TypeError, ValueError):
            first = None
    until = body.get("valid_until")
    try:
        until = date.fromisoformat(until) if until is not None else None
    except (TypeError, ValueError):
        return
    valid_from = body.get("valid_from")
    try:
        valid_from = date.fromisoformat(valid_from) if valid_from is not None else None
    except (TypeError, ValueError):
        valid_from = None
    stop, play = body.get("stop"), body.get("play")
    if isinstance(stop, dict) and stop.get("mode") == "finish_cue_list":
        if not (isinstance(play, dict) and play.get("cue_list") is not None):
            stop["mode"] = "fade_out"
            if stop.get("fade_ms") is None:
                stop["fade_ms"] = 0
    floors = [d for d in (first, valid_from) if d is not None]
    if until is not None and floors and until < max(floors):
        floor = max(floors)
        body["valid_until"] = floor.isoformat()


def _places(body):
    """Named seats only exist on a seated session; the sessions this run creates and
    finds have none, so ask for as many places instead."""
    seats = body.get("seats") if isinstance(body, dict) else None
    if isinstance(seats, list):
        body.clear()
        body["quantity"] = max(1, len(seats))


def _party(body):
    """A party fits the session's capacity, which the session decides: one person
    always fits."""
    if _whole(body.get("party")) is not None:
        body["party"] = 1


def _template(body):
    """Parameter names are unique and well formed, each default fits its kind, and
    the layers use every parameter and nothing else: one layer per parameter, in a
    place its kind may fill. An asset parameter becomes a colour, as the run has
    no approved asset to name."""
    params = body.get("parameters")
    if not isinstance(params, list):
        params = []
    layers = []
    kept = []
    for i, p in enumerate(params[:32]):
        if not isinstance(p, dict):
            continue
        name = f"p{i}"
        kind = p.get("kind")
        label = p.get("label") if isinstance(p.get("label"), str) else ""
        if kind == "number":
            kept.append({"kind": "number", "name": name, "label": label, "default": 0.5, "min": 0, "max": 1})
            layers.append({"effect": "solid", "color": "#000000", "opacity": {"param": name}})
        elif kind == "text":
            kept.append({"kind": "text", "name": name, "label": label, "default": "Hello"})
            layers.append({"effect": "text", "text": {"param": name}, "color": "#FFFFFF"})
        else:
            kept.append({"kind": "color", "name": name, "label": label, "default": "#FF8000"})
            layers.append({"effect": "solid", "color": {"param": name}})
    body["parameters"] = kept
    body["layers"] = (layers or [{"effect": "solid", "color": "#102030"}])[:32]


# A camera source that GStreamer parses and that fails at once when it runs: the
# server checks that a source parses, and a failing camera only retries, slowly.
CAMERA_SOURCE = "filesrc location=/nonexistent/limelight-schemathesis ! decodebin"


def _convex(corners):
    """Whether four points make a convex quadrilateral in order round it."""
    try:
        turns = []
        for i in range(4):
            (ax, ay), (bx, by), (cx, cy) = corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]
            turns.append((bx - ax) * (cy - by) - (by - ay) * (cx - bx))
    except (TypeError, ValueError, IndexError):
        return True
    return all(t > 1e-9 for t in turns) or all(t < -1e-9 for t in turns)


def _input(body):
    """A password needs a username, TLS settings an mqtts:// broker, the
    availability topic's two words differ, and one input's value names are distinct (across inputs a clash is a 409). A
    camera's source must parse, its `min_area` fit the analysis size, and mapping
    corners make a convex quadrilateral."""
    if body.get("kind") == "camera":
        body["source"] = CAMERA_SOURCE
        width, height = _whole(body.get("width")) or 160, _whole(body.get("height")) or 120
        area = _whole(body.get("min_area"))
        if area is not None and area > width * height:
            body["min_area"] = width * height
        mapping = body.get("mapping")
        if isinstance(mapping, dict) and isinstance(mapping.get("corners"), list) and not _convex(mapping["corners"]):
            mapping["corners"] = [[0, 0], [1, 0], [1, 1], [0, 1]]
        return
    if body.get("password") is not None and body.get("username") is None:
        body["username"] = "limelight"
    # TLS settings go with an mqtts:// broker, and PEM text made at random holds
    # no certificate: keep the system's authorities instead.
    if isinstance(body.get("tls"), dict):
        body["tls"] = {}
        broker = body.get("broker")
        if isinstance(broker, str) and broker.startswith("mqtt://"):
            body["broker"] = "mqtts://" + broker[len("mqtt://"):]
    availability = body.get("availability")
    if isinstance(availability, dict):
        online = availability.get("online", "online")
        if availability.get("offline", "offline") == online:
            availability["offline"] = f"not {online}"
    seen = set()
    for i, binding in enumerate(body.get("bindings") or []):
        if isinstance(binding, dict) and isinstance(binding.get("name"), str):
            if binding["name"] in seen:
                binding["name"] = f"value {i}"
            seen.add(binding["name"])


def _celebration(body):
    """What a celebration plays and where must exist: the server's own scenes,
    cue lists and canvases."""
    _existing(body, {})


def _instantiate(body):
    """Every stored template's parameters have defaults: give no values."""
    body["values"] = {}


BODY_RULES = {
    ("POST", "/api/v1/sessions/{id}/waitlist"): _party,
    ("POST", "/api/v1/events"): _ends_after_starts,
    ("PUT", "/api/v1/events/{id}"): _ends_after_starts,
    ("POST", "/api/v1/canvases"): _canvas,
    ("POST", "/api/v1/celebrations"): _celebration,
    ("PUT", "/api/v1/celebrations/{id}"): _celebration,
    ("PUT", "/api/v1/canvases/{id}"): _canvas,
    ("POST", "/api/v1/cue-lists"): _cue_list,
    ("PUT", "/api/v1/cue-lists/{id}"): _cue_list,
    ("POST", "/api/v1/events/{id}/sessions"): _session,
    ("PUT", "/api/v1/sessions/{id}"): _session,
    ("POST", "/api/v1/schedule"): _schedule,
    ("PUT", "/api/v1/schedule/{id}"): _schedule,
    ("POST", "/api/v1/sessions/{id}/bookings"): _places,
    ("POST", "/api/v1/sessions/{id}/holds"): _places,
    ("POST", "/api/v1/templates"): _template,
    ("PUT", "/api/v1/templates/{id}"): _template,
    ("POST", "/api/v1/templates/{id}/instantiate"): _instantiate,
    ("POST", "/api/v1/inputs"): _input,
    ("PUT", "/api/v1/inputs/{id}"): _input,
}


def _timeline(query):
    """`to` is after `from` (now when not given), and at most 366 days after it."""
    start = _instant(query.get("from")) or datetime.now(timezone.utc)
    end = _instant(query.get("to"))
    if end is not None and end.tzinfo is not None and start.tzinfo is not None and (end <= start or end - start > timedelta(days=366)):
        query["to"] = (start + timedelta(days=1)).isoformat()


def _keep_rules(case):
    key = (case.operation.method.upper(), case.operation.path)
    rule = BODY_RULES.get(key)
    # Cases may share parts with each other and with the document's examples.
    if rule is not None and isinstance(case.body, dict):
        case.body = copy.deepcopy(case.body)
        rule(case.body)
    if _stateful(case) and isinstance(case.body, (dict, list)):
        case.body = copy.deepcopy(case.body)
        _existing(case.body, {})
    if key == ("GET", "/api/v1/schedule/timeline") and isinstance(case.query, dict):
        case.query = dict(case.query)
        _timeline(case.query)


@schemathesis.hook
def map_case(context, case):
    if _positive(case):
        _keep_rules(case)
    return case


@schemathesis.hook
def before_call(context, case, kwargs):
    # In the stateful phase a link fills parts of a request from an earlier answer
    # after `map_case` ran (a canvas's `output` without its `pixels`, a template's
    # `layers` apart from its `parameters`): the rules are kept again on what is sent.
    if _stateful(case):
        _keep_rules(case)
