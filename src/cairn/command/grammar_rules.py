"""The grammar's rule table: :data:`RULES`, ordered regex templates with named groups, tried in
turn by :func:`cairn.command.grammar.parse` (the first whose builder returns a command
wins)."""

from __future__ import annotations

import re

from cairn.command.model import Command
from cairn.command.request_filters import Filters
from cairn.command.rule_builders import (
    _ABOUT,
    _API_WORD,
    _CHART_KINDS,
    _CHART_NOUN,
    _DEICTIC,
    _DOC_NOUN,
    _FORGET_VERB,
    _KB,
    _OOS_ACTION,
    _REMEMBER_VERB,
    _SOURCES,
    Rule,
    _call_api,
    _chart,
    _clarify,
    _fixed_clarify,
    _fixed_oos,
    _forget,
    _help,
    _list,
    _question,
    _r,
    _remember,
    _search,
    _synthesize,
    _weather,
    _with_query,
)

RULES: tuple[Rule, ...] = (
    # -- follow-ups that need context: ask back -------------------------------------------
    Rule(
        "deictic",
        "clarify",
        _r(
            rf"(?:(?:and|but|ok|okay|yes|yeah|no)\s+)?{_DEICTIC}(?:\s+(?:one|ones|again|too|please))?"
        ),
        _fixed_clarify(
            "Which one do you mean? I keep no context between requests yet; say it in full."
        ),
    ),
    Rule(
        "follow-up",
        "clarify",
        _r(
            r"(?:and\s+)?(?:what|how)\s+about\b.*|do\s+the\s+same\b.*|same\s+(?:again|for)\b.*|"
            r"(?:same|again|more|yes|yeah|yep|no|nope|sure|go\s+on|continue|next|repeat(?:\s+that)?|"
            r"redo|undo|show\s+me\s+more|tell\s+me\s+more|more\s+please|"
            r"do\s+(?:it|that|this)(?:\s+again)?)"
        ),
        _fixed_clarify(
            "I keep no context between requests yet: what do you want, in full? "
            "e.g. 'search for X since 2019'."
        ),
    ),
    # -- remember ---------------------------------------------------------------------------
    Rule(
        "remember",
        "remember",
        _r(rf"{_REMEMBER_VERB}(?:\s+(?:that|this|the\s+following|saying|:))?(?:\s+(?P<q>.+))?"),
        lambda m, f: (
            _remember(m, f)
            if m.group("q")
            else _clarify("What should I remember? Say the fact, e.g. 'remember that ...'.")
        ),
    ),
    # -- forget -----------------------------------------------------------------------------
    Rule(
        "forget",
        "forget",
        _r(rf"{_FORGET_VERB}(?:\s+(?P<s>.+))?"),
        lambda m, f: (
            _forget(m, f)
            if m.group("s")
            else _clarify("Which source should I forget? Give its file name, URL or id.")
        ),
    ),
    # -- help -------------------------------------------------------------------------------
    Rule(
        "help",
        "help",
        _r(
            r"(?:help|help\s+me|usage|commands|examples|menu|options|\?|"
            r"what\s+(?:else\s+)?can\s+(?:you|i|cairn)\s+(?:do|say|ask)(?:\s+(?:you|here|for\s+me))?|"
            r"what\s+(?:kind|kinds|sort|sorts|type|types)\s+of\s+(?:things|questions|stuff|requests|"
            r"commands)\s+can\s+(?:i|you)\s+.*|"
            r"what\s+(?:commands|requests|questions|things)\s+(?:do|can)\s+you\s+.*|"
            r"what\s+are\s+(?:the|your)\s+(?:commands|options|features)|"
            r"(?:show|give|tell)\s+me\s+(?:some\s+|a\s+few\s+)?(?:examples|commands|options|"
            r"what\s+(?:i|you)\s+can\s+(?:do|say|ask)).*|"
            r"how\s+(?:does|do)\s+(?:this|it|cairn|you|this\s+app|this\s+thing)\s+work|"
            r"how\s+(?:do|can|should)\s+i\s+(?:use|start|get\s+started|start\s+with|work\s+with)"
            r"(?:\s+(?:this|it|you|cairn|this\s+app|this\s+thing).*)?|"
            r"how\s+(?:do|can)\s+i\s+(?:add|ingest|import|upload|load|index|search|delete|remove|"
            r"forget|ask|chart|plot|connect|register|set\s+up|install|list)\b.*\b(?:documents?|"
            r"sources?|files?|pdfs?|notes|cairn|collections?|knowledge\s+base|apis?|charts?|"
            r"you|this)\b.*|"
            r"(?:im|i\s+am)\s+(?:lost|stuck|confused).*|who\s+are\s+you|what\s+are\s+you)"
        ),
        _help,
    ),
    # -- call an API (explicit) ------------------------------------------------------------
    Rule(
        "call-api-nameless",
        "clarify",
        _r(rf"(?:call|use|query|ask|hit|check|ping|try)\s+(?:the\s+|an\s+|some\s+)?{_API_WORD}"),
        _fixed_clarify(
            "Which API should I call, and with what? e.g. 'call the weather API for Paris'."
        ),
    ),
    Rule(
        "call-api-operation",
        "call_api",
        _r(
            rf"(?:run|call|invoke|use)\s+(?:the\s+)?(?P<op>[\w.]+)\s+(?:operation|endpoint|method)\s+"
            rf"(?:of|on|from|in)\s+(?:the\s+)?(?P<svc>[\w\- ]+?)\s+{_API_WORD}(?P<rest>\s+.*)?"
        ),
        _call_api,
    ),
    Rule(
        "call-api-get-from",
        "call_api",
        _r(
            rf"(?:get|fetch|look\s+up|retrieve|pull|grab|find|check|give\s+me|show\s+me)\s+"
            rf"(?:me\s+)?(?P<op>(?:the\s+|a\s+)?[\w ]+?)\s+(?:for|of|in|on|at)\s+(?P<q>.+?)\s+"
            rf"(?:from|with|using|via|through|on)\s+(?:the\s+|my\s+)?(?P<svc>[\w\- ]+?)\s+"
            rf"{_API_WORD}(?P<rest>\s+.*)?"
        ),
        _call_api,
    ),
    Rule(
        "call-api",
        "call_api",
        _r(
            rf"(?:call|use|query|ask|hit|check|ping|try|run|invoke|consult|search)\s+"
            rf"(?:the\s+|my\s+|our\s+)?(?P<svc>[\w\- ]+?)\s+{_API_WORD}"
            rf"(?P<rest>\s+(?:for|about|on|with|to|and|regarding)\b.*)?"
        ),
        _call_api,
    ),
    Rule(
        "weather",
        "call_api",
        _r(
            r"(?:whats|what\s+is|hows|how\s+is|tell\s+me|give\s+me|get|check)\s+"
            r"(?:the\s+)?(?:weather|forecast|weather\s+forecast|temperature)(?:\s+like)?\s+"
            r"(?:in|for|at)\s+(?P<q>.+)"
        ),
        _weather,
    ),
    # -- out of scope -----------------------------------------------------------------------
    Rule(
        "oos-arithmetic",
        "out_of_scope",
        _r(
            r".*\b\d+(?:\.\d+)?\s*(?:\+|-|\*|x|/|plus|minus|times|divided\s+by|multiplied\s+by)"
            r"\s*\d+(?:\.\d+)?\b.*"
        ),
        _fixed_oos(_OOS_ACTION.format(what="do arithmetic or unit conversions")),
    ),
    Rule(
        "oos-actions",
        "out_of_scope",
        _r(
            r"(?:book|reserve|order|buy|purchase|pay|rent|hire|schedule)\b.*|"
            r"set\s+(?:an?\s+|the\s+|my\s+)?(?:alarm|timer|reminder|appointment|meeting).*|"
            r"remind\s+me\b.*|wake\s+me\b.*|"
            r"play\b.*|pause\b.*|skip\b.*|"
            r"(?:send|text|email|e-mail|message|dm|tweet|post)\b.*|"
            r"(?:turn|switch)\s+(?:on|off|up|down)\b.*|(?:turn|switch)(?:\s+\w+){1,3}\s+(?:on|off|up|down)|"
            r"(?:dim|brighten|lock|unlock|open|close)\s+the\b.*|"
            r"call\s+(?!the\b)\w+.*|(?:navigate|drive|take\s+me)\s+to\b.*|directions\s+to\b.*|"
            r"translate\b.*"
        ),
        _fixed_oos(
            _OOS_ACTION.format(what="act in the world (bookings, messages, devices, media)")
        ),
    ),
    Rule(
        "oos-chat",
        "out_of_scope",
        _r(
            r"(?:tell\s+me\s+a\s+(?:joke|story)|sing\b.*|"
            r"(?:write|compose)\s+(?:me\s+)?(?:a|an|some)\s+(?:poem|story|song|essay|joke|limerick|"
            r"haiku).*|"
            r"what\s+time\s+is\s+it.*|whats\s+the\s+(?:time|date)\b.*|what\s+day\s+is\s+it.*|"
            r"how\s+are\s+you.*)"
        ),
        _fixed_oos(_OOS_ACTION.format(what="chat, tell the time or write creatively")),
    ),
    # -- list sources -----------------------------------------------------------------------
    Rule(
        "list",
        "list_sources",
        _r(
            rf"(?:(?:list|show|display|give|tell)(?:\s+me)?|what\s+are|which\s+are|see)\s+"
            rf"(?:all\s+)?(?:of\s+)?(?:my|the|our|all)?\s*(?:{_SOURCES}|everything|collections)"
            rf"(?:\s+(?:i|we)\s+(?:have|got|added|saved|ingested|uploaded))?(?:\s+(?:there\s+are|"
            rf"are\s+there|in|i\s+have|so\s+far))?|"
            rf"list\s+(?:all|everything)|"
            rf"(?:what|which)\s+{_SOURCES}\s+(?:do|did)\s+(?:i|we)\s+(?:have|add|save|ingest|upload)"
            rf"(?:\s+(?:in|so\s+far))?|"
            rf"(?:what|which)\s+{_SOURCES}\s+(?:are|have\s+i|have\s+we)\s+"
            rf"(?:in|there|added|got|saved|ingested|uploaded)(?:\s+(?:in|there))?|"
            rf"(?:whats|what\s+is|what\s+do\s+i\s+have|what\s+have\s+i\s+got)\s+in(?:\s+(?:my|the|our)"
            rf"\s+{_KB})?|"
            rf"what\s+(?:have|did)\s+(?:i|we)\s+(?:added|add|ingested|ingest|uploaded|upload|saved|save)"
            rf"(?:\s+so\s+far)?|"
            rf"how\s+many\s+{_SOURCES}\s+(?:do\s+i\s+have|are\s+(?:there|in)(?:\s+(?:my|the)\s+{_KB})?"
            rf"|have\s+i\s+(?:added|got))(?:\s+in)?"
        ),
        _list,
        stage="filtered",
    ),
    # -- chart ------------------------------------------------------------------------------
    Rule(
        "chart-noun",
        "chart",
        _r(
            rf"(?:(?:make|create|draw|show|give|build|generate|produce|plot|render|i\s+want|"
            rf"i\s+need)(?:\s+me)?\s+)?(?:a\s+|an\s+|the\s+)?{_CHART_KINDS}?\s*"
            rf"(?:{_CHART_NOUN}|graph)\s+(?:of|for|showing|with|about|from)\s+(?P<q>.+)"
        ),
        _chart,
        stage="filtered",
    ),
    Rule(
        "chart-verb",
        "chart",
        _r(r"(?:chart|plot|graph|visuali[sz]e|draw|tabulate)\s+(?P<q>.+)"),
        _chart,
        stage="filtered",
    ),
    Rule(
        "chart-bare",
        "clarify",
        _r(
            r"(?:chart|plot|graph|visuali[sz]e|draw)(?:\s+(?:a|the))?(?:\s+(?:bar|line|pie|scatter))?"
            r"(?:\s+(?:chart|graph|plot))?"
        ),
        _fixed_clarify(
            "What should I chart? Name the data, e.g. 'chart the number of sources by year'."
        ),
    ),
    # -- synthesize -------------------------------------------------------------------------
    Rule(
        "synth-summarise",
        "synthesize",
        _r(
            rf"(?:summari[sz]e|sum\s+up|give\s+me\s+(?:a\s+summary|an\s+overview|the\s+gist)\s+of|"
            rf"(?:an\s+)?overview\s+of|review|weigh(?:\s+up)?|compare|contrast)\s+"
            rf"(?:the\s+)?(?:(?:evidence|arguments|case|literature|research|findings|studies|"
            rf"state\s+of\s+(?:the\s+)?(?:art|research))\s+)?"
            rf"(?:(?:what|everything)\s+(?:my|the|our)\s+{_SOURCES}\s+(?:say|says|said|have)\s+|"
            rf"(?:my|the|our)\s+{_SOURCES}\s+)?"
            rf"(?:for\s+and\s+against|for|against|on|about|that|regarding|of|concerning|into)?\s*"
            rf"(?P<q>.+)"
        ),
        _synthesize,
        stage="filtered",
    ),
    Rule(
        "synth-claim",
        "synthesize",
        _r(
            rf"(?:is\s+it\s+(?:true|right|correct|a\s+fact)|is\s+there\s+(?:any\s+|good\s+|strong\s+|"
            rf"solid\s+|much\s+)?evidence|whats\s+the\s+evidence|what\s+is\s+the\s+evidence|"
            rf"how\s+strong\s+is\s+the\s+evidence|(?:fact\s*check|fact-check|check|verify|"
            rf"confirm|debunk)(?:\s+the\s+(?:claim|idea|statement))?|"
            rf"do\s+(?:my|the|our)\s+{_SOURCES}\s+(?:support|agree|back\s+up|confirm|contradict|"
            rf"disagree|say)(?:\s+(?:on|with|about))?)\s*"
            rf"(?:that|for|against|on|whether|if)?\s+(?P<q>.+)"
        ),
        _synthesize,
        stage="filtered",
    ),
    # -- search -----------------------------------------------------------------------------
    Rule(
        "search-verb",
        "search",
        _r(
            r"(?:search(?:\s+for)?|search\s+(?:my|the|our)\s+\w+(?:\s+\w+)?\s+for|"
            r"look\s+(?:for|up)|look\s+through\s+(?:my|the)\s+\w+\s+for|hunt\s+for|"
            r"find(?:\s+me)?|pull\s+up|dig\s+up|bring\s+up|fetch(?:\s+me)?|retrieve|"
            r"show(?:\s+me)?|get(?:\s+me)?|give\s+me|list|i\s+need|i\s+want|"
            r"(?:im|i\s+am)\s+(?:looking|searching)\s+for|looking\s+for|searching\s+for|"
            r"grep(?:\s+(?:my|the)\s+\w+)?\s+for|grep|"
            r"(?:have\s+i|do\s+i|did\s+i|have\s+we|do\s+we)\s+(?:have|got|save|saved)|got|"
            r"what\s+(?:do|have|did)\s+(?:i|we)\s+(?:have|got)\s+(?:on|about)|"
            r"(?:do\s+you\s+have|have\s+you\s+got)|is\s+there|are\s+there)"
            r"\s+(?P<q>.+)"
        ),
        _search,
        stage="filtered",
    ),
    Rule(
        "search-noun",
        "search",
        _r(rf"(?P<q>(?:(?:any|all|some)\s+)?(?:{_DOC_NOUN})\s+{_ABOUT}\s+.+)"),
        _search,
        stage="filtered",
    ),
    Rule(
        "search-bare",
        "clarify",
        _r(r"(?:search|find|look|look\s+up|look\s+for|search\s+for|show\s+me|get)"),
        _fixed_clarify("What should I search for? e.g. 'search for solar panels since 2019'."),
    ),
    # -- ask --------------------------------------------------------------------------------
    Rule(
        "ask-collection",
        "ask",
        _r(
            rf"(?:what|wh)\s+(?:does|do|did|can)\s+(?:(?:my|the|our)\s+(?:\w+\s+)?{_KB}\s+)?"
            rf"(?:say|tell\s+me|have\s+to\s+say|mention|know)\s+(?:about|on|regarding|of)\s+(?P<q>.+)|"
            rf"what\s+(?:did|do|have)\s+(?:i|we)\s+(?:write|written|save|saved|note|noted|read|"
            rf"learn|learned|learnt|find|found)\s+(?:about|on|regarding)\s+(?P<q2>.+)|"
            rf"(?:tell\s+me|teach\s+me)\s+(?:everything\s+|more\s+|something\s+)?(?:about|on)\s+"
            rf"(?P<q3>.+)|"
            rf"ask\s+(?:my|the)\s+(?:\w+\s+)?{_KB}\s+(?:about|whether|if)?\s*(?P<q4>.+)|"
            rf"(?:explain|describe|define|clarify)(?:\s+to\s+me)?\s+(?P<q5>.+)"
        ),
        lambda m, f: _ask_any(m, f),
        stage="filtered",
    ),
    Rule(
        "question",
        "ask",
        _r(
            r"(?:according\s+to\s+(?:my|the|our)\s+(?:\w+\s+)?(?:sources|notes|documents|papers|"
            r"files|collection|knowledge\s+base)\s+)?"
            r"(?P<q>(?:who|whom|whose|what|whats|which|when|where|why|how|hows|is|are|was|were|do|"
            r"does|did|can|could|should|would|will|has|have|had|wheres|whos|whens)\b.*)"
        ),
        _question,
        stage="question",
    ),
)


def _ask_any(m: re.Match[str], f: Filters) -> Command | None:
    for name in ("q", "q2", "q3", "q4", "q5"):
        value = m.groupdict().get(name)
        if value:
            return _with_query("ask", value, f, "ask about", 0.85)
    return None
