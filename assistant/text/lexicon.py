"""The hand-written word lists and word shapes the rules read, each saying where it came from.

Pure data, importing nothing of the project, so that every stage can read it. The
logic that uses a list stays with its stage; tables of rules with a reason per
pattern stay there too (``text/rules.py``, ``answer/claims.CUES``,
``compound.SPLITS``). Lists that look alike but match differently are kept apart,
and their comments say how they differ.
"""

from __future__ import annotations

import re

# --- The grammar of questions -------------------------------------------------------

# Written for this project: the question words, and the possessive "s", that bm25s's
# English stopword list lacks; ``text.is_stopword`` reads both.
QUESTION_WORDS = frozenset(
    [
        "s",
        "did",
        "does",
        "do",
        "whose",
        "what",
        "who",
        "whom",
        "where",
        "when",
        "why",
        "how",
        "which",
    ]
)
# English auxiliary and modal verbs, the words a yes/no question opens with.
AUXILIARY = (
    "did does do is was are were has have had can could will would should may might must shall"
)
AUX = "(?:" + "|".join(AUXILIARY.split()) + ")"  # a regex alternative of the auxiliaries
# The English wh-words, as a regex alternative.
WH = r"(?:what|where|who|whom|whose|when|why|how|which)"
# The finite forms of "be" and "have": one ends a hedge ("a ship believed to be carrying
# grain has docked").
FINITE_BE_HAVE = frozenset("has have had is was are were".split())
# The auxiliary of a contracted negation once "n't" is cut ("won't" -> "wo" -> "will").
CONTRACTED_AUXILIARIES = {"wo": "will", "ca": "can", "sha": "shall", "cannot": "can"}
# Plural auxiliaries and their singular ("Where were A and B born?" -> "Where was A born?").
SINGULAR_VERBS = {"were": "was", "are": "is", "have": "has", "do": "does"}
# English irregular past forms and participles the Snowball stemmer leaves apart from
# their verb ("gave" is not "give"), written out for this project; the few with a noun
# sense (saw, left, found, won) still need every other claim term.
IRREGULAR_PAST = dict(
    pair.split(":")
    for pair in """gave:give given:give met:meet went:go gone:go sold:sell bought:buy made:make
    took:take taken:take began:begin begun:begin came:come saw:see seen:see said:say told:tell
    held:hold led:lead left:leave lost:lose won:win sent:send spent:spend built:build paid:pay
    brought:bring fought:fight sought:seek caught:catch taught:teach found:find kept:keep
    felt:feel heard:hear meant:mean thought:think got:get gotten:get ran:run wrote:write
    written:write spoke:speak spoken:speak chose:choose chosen:choose flew:fly flown:fly
    drove:drive driven:drive rode:ride ridden:ride knew:know known:know grew:grow grown:grow
    threw:throw thrown:throw shot:shoot fell:fall fallen:fall broke:break broken:break
    stole:steal stolen:steal struck:strike stood:stand withdrew:withdraw withdrawn:withdraw
    rose:rise risen:rise drew:draw drawn:draw froze:freeze frozen:freeze hid:hide hidden:hide
    sat:sit swore:swear sworn:swear wore:wear worn:wear understood:understand fled:flee
    fed:feed dealt:deal lent:lend became:become""".split()
)
# The regular British endings and their American spelling ("recognise"/"recognize",
# "colour"/"color", "defence"/"defense"), after a stem of at least three letters.
BRITISH_SPELLINGS = (
    (re.compile(r"(?<=\w{3})is(e|es|ed|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"(?<=\w{3})our(s|ed|ing)?$"), r"or\1"),
    (re.compile(r"(?<=\w{3})ence$"), r"ense"),
)
# English pronouns, determiners, be/have/do, prepositions and connectives, written out
# for this project: grammar, not content; requiring "from" or "his" in a sentence would
# reject paraphrases.
FUNCTION_WORDS = frozenset(
    """i me my we us our you your he him his she her hers it its they them their theirs
    this that these those who whom whose which what where when why how am is are was were
    be been being has have had having do does did done doing from to of in on at by for
    with about into onto over under through during after before since until upon within
    across against among between toward towards a an the some any each every all both
    either other another also just only very so too there here than as then yet still ever
    already really actually indeed and or but if""".split()
)
# Written for this project: English prepositions, and "than", that bm25s's English
# stopword list lacks; a short answer never starts or ends with one ("two years from").
EDGE_WORDS = frozenset(
    "from during since after before about than over under between through into onto upon "
    "within without across against among toward towards until via per".split()
)
# Written for this project: words of a hedging cue too common to tie it to the question.
CUE_GLUE = frozenset(["to", "that", "of"])

# --- Pronouns ---------------------------------------------------------------------------

# English personal and demonstrative pronouns, "there", and their contractions: words
# of a follow-up question that point back at an earlier turn. Unlike PRONOUN below it
# holds "theirs" and the contractions ("he's").
REFERRING_WORDS = frozenset(
    """he she it they them his her its their theirs there that this those these him
    he's she's they're it's""".split()
)
# The same pronouns as a case-insensitive whole-word pattern, without "theirs" and the
# contractions: a part of a compound question that leans on the first part.
PRONOUN = re.compile(
    r"\b(?:he|she|him|her|his|it|its|they|them|their|this|that|these|those|there)\b", re.I
)

# --- Places, pairs and names ------------------------------------------------------------

# English prepositions before a place, as a set of single words: the word before a
# candidate span of the extractive answerer. Unlike PLACE_BEFORE it holds "throughout",
# "outside" and "inside".
PLACE_PREPOSITIONS = frozenset("in at near from to into across throughout outside inside".split())
# English prepositions before a place, as a pattern for the end of a text, with an
# optional "the": a name after it is a place ("in the Netherlands"). Unlike
# PLACE_PREPOSITIONS it holds "toward(s)".
PLACE_BEFORE = re.compile(r"\b(?:to|in|at|from|into|near|towards?|across)\s+(?:the\s+)?$", re.I)
# Written for this project: verbs and phrases whose action needs both of a pair ("A and B
# met"), so a question about them is not split into one part per item.
RECIPROCAL = re.compile(
    r"\b(?:exchang\w*|meet|met|meeting|agree\w*|sign\w*|discuss\w*|negotiat\w*|shar\w*|trad\w*|"
    r"talk\w*|shak\w*|each other|one another|together|jointly)\b",
    re.I,
)
# A run of one or more capitalised words (a name, or a sentence's first word).
CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
# English words that join the capitalised words of one name ("Bank of England").
NAME_JOINERS = frozenset({"of", "the", "and", "for"})
# An acronym of two to six capitals, with or without full stops ("EU", "U.S.").
ACRONYM = re.compile(r"(?:[A-Z]\.?){2,6}")
# Letters each followed by a full stop: "U.S.", "U.K.", "e.g.".
DOTTED = re.compile(r"\b(?:[A-Za-z]\.){2,}")
# A possessive ending, straight or curly ("Reuters'", "Reuters’s").
POSSESSIVE = re.compile(r"['’]s?$")
# English titles and abbreviations whose full stop ends no sentence ("Dr.", "No. 3", "U.S.").
ABBREVIATIONS = ("Mr", "Mrs", "Ms", "Dr", "St", "No", "vs", "etc", "Jr", "Sr", "Gen", "Col", "Lt",
                 "U.S", "U.N")  # fmt: skip

# --- Negation ---------------------------------------------------------------------------

# One English word that negates by itself ("not", "never", "didn't", "cannot").
NEGATION_WORD = re.compile(r"^(?:not|never|\w+n't|cannot)$")
# English negating words anywhere in a text; unlike NEGATION_WORD, which reads one word,
# it also finds "no", "none", "nobody", "nothing", "neither", "nor" and "without".
NEGATION = re.compile(r"\b(?:not|never|no|none|nobody|nothing|neither|nor|without)\b|n't\b", re.I)

# --- Numbers and dates ------------------------------------------------------------------

# A run of digits with its decimal or thousands separators ("1,200", "3.5").
NUMERAL = re.compile(r"\d+(?:[.,]\d+)*")
# A year from 1800 to 2099.
YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
# The English number words one to ten: the one list both number patterns below read.
ONE_TO_TEN = "one two three four five six seven eight nine ten".split()
# One to ten, or digits, as one whole word (``fullmatch``): "two or three" offers no choice.
SMALL_NUMBER = re.compile(r"\d+|" + "|".join(ONE_TO_TEN), re.I)
# One token of a number (lower-cased): digits with separators or a currency or per cent
# sign, English number words, "half", "percent". The span features read it.
NUMBER_WORD = re.compile(
    r"^(?:[\d.,%$€£]+\d*%?|" + "|".join(ONE_TO_TEN) + "|eleven|twelve|"
    r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|"
    r"billions?|trillions?|dozens?|half|percent|per|cent)$",
    re.IGNORECASE,
)
# The English month names and weekday names.
MONTHS = (
    "january february march april may june july august september october november december"
).split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
# One token of a date (lower-cased): a year from 1000 to 2099, a decade ("1990s"), a month,
# a weekday, an ordinal day, "century", "BC"/"AD", "decade".
DATE_WORD = re.compile(
    r"^(?:1\d{3}|20\d\d|\d{3}0s|(?:" + "|".join(MONTHS) + ")|" + "|".join(WEEKDAYS)
    + r"|century|centuries|bc|ad|decade|\d{1,2}(?:st|nd|rd|th))$",
    re.IGNORECASE,
)  # fmt: skip
# Written for this project: verbs of handing something over or taking it in. "What did X
# give / send / offer ...?" asks for everything given, not for one thing.
TRANSFER_VERBS = re.compile(
    r"\b(?:give|gave|given|giving|send|sent|offer(?:s|ed)?|provide[sd]?|suppl(?:y|ies|ied)|"
    r"sell|sold|exchange[sd]?|buy|bought|receive[sd]?|deliver(?:s|ed)?|donate[sd]?)\b",
    re.IGNORECASE,
)
# English nouns that end in "s" but are not plurals: "What news ...?" asks for one thing.
NOT_PLURAL = frozenset(
    "news series species means physics politics economics mathematics status bus gas lens".split()
)
# Written for this project: what joins two spans into one item of a list answer, a
# preposition or article alone ("glove" + "from a" + "space suit"); a comma or "and" does not.
ITEM_LINK = re.compile(
    r"\s*(?:(?:of|from|for|with|in|on|at|to|by|as)\s+)?(?:(?:the|a|an)\s+)?", re.IGNORECASE
)
