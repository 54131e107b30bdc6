"""A deterministic paraphraser for questions and answers, in English and Spanish: no model needed.

Several wordings of one fact help a small model learn it rather than one string. Without a capable
generator model the lab rewords questions by rules, and says so (``RULES_LABEL``):
- **embedded**: the question inside a request ("Could you tell me how long the warranty is?",
  "¿Podrías decirme cuánto dura la garantía?"); English needs the subject and verb put back in
  statement order, which is done for the shapes that can be parsed safely (wh + be, wh + do + verb,
  wh/yes-no + modal or do + pronoun); other questions skip this rule;
- **topic-first**: the subject moved to the front ("The warranty: how long is it?",
  "La garantía, ¿cuánto dura?");
- **synonyms**: a small bilingual list of interchangeable words (warranty/guarantee,
  comprar/adquirir), never touching numbers or names;
- **wrapper**: the question kept as it is inside a lead-in ("Quick question: ...").
A variant always differs from its source after the leak check's normalisation, so it is a new
string to learn from; rules never change digits or capitalised names, so the facts stay intact.
"""

from __future__ import annotations

import hashlib
import random
import re

from backend.finetune.overlap import normalise

RULES_LABEL = ("Rule-based (no model): question templates, synonym swaps and reordering; "
               "rewordings, not a model's paraphrases")
LANGUAGES = ("en", "es")

# --- English -------------------------------------------------------------------------------------------
_EN_WH = r"(?:what|which|who|whom|whose|where|when|why|how)"
_EN_PRON = {"i", "you", "we", "they", "he", "she", "it"}
_EN_DET = {"the", "a", "an", "this", "that", "these", "those", "my", "your", "our", "its", "their",
           "his", "her", "each", "every", "some", "any", "all", "no"}
_EN_PREP = {"in", "on", "at", "of", "for", "to", "from", "with", "by", "about", "into", "after",
            "before", "during", "without", "under", "over", "between", "through", "up", "out", "off"}
_EN_FUNCTION = _EN_DET | _EN_PRON - {"i"} | {
    "what", "which", "who", "whom", "whose", "where", "when", "why", "how", "is", "are", "was",
    "were", "do", "does", "did", "can", "could", "should", "will", "would", "may", "might", "must",
    "has", "have", "had", "there", "in", "on", "for", "if", "according"}
_EN_BE = re.compile(rf"^(?P<wh>{_EN_WH}(?:\s+[\w-]+){{0,2}}?)\s+(?P<be>is|are|was|were)\s+(?P<rest>.+)$",
                    re.IGNORECASE)
_EN_DO = re.compile(rf"^(?P<wh>{_EN_WH}(?:\s+[\w-]+){{0,2}}?)\s+(?P<do>do|does)\s+(?P<rest>.+)$",
                    re.IGNORECASE)
_EN_MODAL = re.compile(rf"^(?P<wh>{_EN_WH}(?:\s+[\w-]+){{0,2}}?\s+)?(?P<modal>can|could|should|will|"
                       r"would|may|might|must)\s+(?P<pron>i|you|we|they|he|she|it)\s+(?P<rest>.+)$",
                       re.IGNORECASE)
_EN_YESNO_DO = re.compile(r"^(?:do)\s+(?P<pron>i|you|we|they)\s+(?P<rest>.+)$", re.IGNORECASE)
_EN_THERE = re.compile(r"^(?P<be>is|are)\s+there\s+(?P<rest>.+)$", re.IGNORECASE)
# "Who founded ...", "Which river runs ...": the wh-phrase is the subject, already in statement order
_EN_SUBJECT = re.compile(r"^(?P<wh>(?:who|what|which)(?:\s+[a-z-]+)?)\s+(?P<verb>[a-z]+(?:s|ed))\s+"
                         r"(?P<rest>.+)$", re.IGNORECASE)
EMBED = {
    "en": ("Could you tell me {e}?", "I would like to know {e}.", "Do you know {e}?",
           "Please tell me {e}."),
    "es": ("¿Podrías decirme {e}?", "Quisiera saber {e}.", "¿Sabes {e}?", "Dime {e}, por favor."),
}
WRAP = {
    "en": ("Quick question: {q}", "I have a question. {Q}", "{Q} Can you help?"),
    "es": ("Una pregunta: ¿{b}?", "Tengo una duda: ¿{b}?", "¿{B}? Gracias."),
}
ANSWER_LEAD = {"en": "According to the documents, {a}", "es": "Según los documentos, {a}"}

# --- Spanish -------------------------------------------------------------------------------------------
_ES_WH = (r"(?:(?:a|de|en|con|para|por|desde|hasta)\s+)?(?:qué|cuál|cuáles|cuándo|cuánto|cuánta|"
          r"cuántos|cuántas|dónde|adónde|cómo|quién|quiénes)")
_ES_DET = (r"(?:el|la|los|las|un|una|unos|unas|mi|mis|tu|tus|su|sus|este|esta|estos|estas|ese|esa|"
           r"nuestro|nuestra|nuestros|nuestras)")
_ES_TOPIC = re.compile(rf"^(?P<wh>{_ES_WH}(?:\s+\w+)?)\s+(?P<verb>\w+)\s+(?P<np>{_ES_DET}\s.+)$",
                       re.IGNORECASE)
_ES_STARTS_WH = re.compile(rf"^{_ES_WH}\b", re.IGNORECASE)
_ES_FUNCTION = {"el", "la", "los", "las", "un", "una", "qué", "cuál", "cuáles", "cuándo", "cuánto",
                "cuánta", "cuántos", "cuántas", "dónde", "adónde", "cómo", "quién", "quiénes", "por",
                "a", "de", "en", "con", "para", "desde", "hasta", "hay", "es", "son", "puedo", "puede",
                "pueden", "podemos", "debo", "debe", "deben", "tengo", "tiene", "tienen", "necesito",
                "existe", "existen", "se", "me", "mi", "su", "sus", "está", "están", "según", "si"}

SYNONYMS = {
    "en": {"warranty": "guarantee", "guarantee": "warranty", "buy": "purchase", "purchase": "buy",
           "price": "cost", "cost": "price", "begin": "start", "start": "begin", "shop": "store",
           "store": "shop", "customer": "client", "customers": "clients", "client": "customer",
           "clients": "customers", "fix": "repair", "repair": "fix", "damaged": "broken",
           "broken": "damaged", "company": "firm", "founded": "established",
           "established": "founded", "headquarters": "head office", "delivery": "shipping",
           "shipping": "delivery", "large": "big", "big": "large", "quickly": "fast",
           "doctor": "physician", "physician": "doctor", "children": "kids", "kids": "children",
           "illness": "disease", "disease": "illness", "symptoms": "signs", "need": "require",
           "require": "need", "allowed": "permitted", "permitted": "allowed", "help": "assist",
           "biggest": "largest", "largest": "biggest", "employees": "staff", "staff": "employees",
           "contact": "reach", "rules": "regulations", "regulations": "rules", "main": "principal",
           "total": "overall", "receive": "get", "usually": "normally", "normally": "usually"},
    "es": {"comprar": "adquirir", "adquirir": "comprar", "precio": "coste", "coste": "precio",
           "costo": "precio", "empresa": "compañía", "compañía": "empresa", "enviar": "mandar",
           "mandar": "enviar", "reparar": "arreglar", "arreglar": "reparar", "empezar": "comenzar",
           "comenzar": "empezar", "empieza": "comienza", "comienza": "empieza", "ayuda": "asistencia",
           "médico": "doctor", "doctor": "médico", "síntomas": "signos", "enfermedad": "dolencia",
           "niños": "menores", "rápido": "veloz", "dañado": "estropeado", "estropeado": "dañado",
           "trabajadores": "empleados", "empleados": "trabajadores", "normas": "reglas",
           "reglas": "normas", "principal": "más importante", "sede": "oficina central",
           "fundó": "creó", "fundada": "creada", "fundado": "creado", "normalmente": "habitualmente",
           "recibir": "obtener", "necesito": "preciso", "pedido": "encargo", "pedidos": "encargos",
           "cliente": "comprador", "clientes": "compradores", "devolución": "reembolso"},
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def swap_synonyms(text: str, language: str) -> str:
    """``text`` with every word of the synonym list replaced once (case of the first letter kept;
    words with capitals inside, numbers and names are never touched)."""
    table = SYNONYMS.get(language, {})

    def repl(m: re.Match) -> str:
        word = m.group(0)
        lower = word.lower()
        if lower not in table or (word != lower and word != lower.capitalize()):
            return word
        new = table[lower]
        return new[0].upper() + new[1:] if word[0].isupper() else new
    return _WORD.sub(repl, text)


def _lower_first(text: str, function_words: set[str]) -> str:
    """Lower-case the first letter when the first word is a function word (never a name)."""
    first = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if first.lower() in function_words and first[:1].isupper() \
        else text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _third_person(verb: str) -> str:
    if verb in ("have", "do", "go"):
        return {"have": "has", "do": "does", "go": "goes"}[verb]
    if re.search(r"(s|sh|ch|x|z|o)$", verb):
        return verb + "es"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + "s"


def _split_np_verb(rest: str) -> tuple[str, str, str] | None:
    """``(subject, verb, particle)`` of "the widget weigh" / "COVID-19 stand for", when the verb
    is the last word (or the last but a preposition); None when that cannot be told safely."""
    words = rest.split()
    particle = ""
    if len(words) >= 3 and words[-1].lower() in _EN_PREP:
        particle, words = words[-1], words[:-1]
    if len(words) < 2:
        return None
    verb, subject = words[-1], words[:-1]
    if not verb.isalpha() or not verb.islower() or verb in _EN_DET | _EN_PREP | _EN_PRON:
        return None
    if subject[-1].lower() in _EN_DET | _EN_PREP:  # "spread in the community": last word a noun
        return None
    return " ".join(subject), verb, particle


def _en_shapes(body: str) -> tuple[str | None, str | None]:
    """``(embedded question, topic-first question)`` for an English question body (no "?")."""
    m = _EN_BE.match(body)
    if m:
        rest, be, wh = m["rest"], m["be"].lower(), m["wh"]
        first = rest.split()[0]
        if first.lower() in _EN_DET or first[:1].isupper() or first[:1].isdigit():
            pron = "it" if be in ("is", "was") else "they"
            return (f"{_lower_first(wh, _EN_FUNCTION)} {rest} {be}",
                    f"{_upper_first(rest)}: {wh.lower()} {be} {pron}?")
        return None, None
    m = _EN_DO.match(body)
    if m:
        do, wh, rest = m["do"].lower(), _lower_first(m["wh"], _EN_FUNCTION), m["rest"]
        words = rest.split()
        if words[0].lower() in _EN_PRON and len(words) >= 2:
            pron = words[0] if words[0] == "I" else words[0].lower()
            verb = words[1] if do == "do" else _third_person(words[1])
            return " ".join([wh, pron, verb, *words[2:]]), None
        split = _split_np_verb(rest)
        if split is None:
            return None, None
        subject, verb, particle = split
        tail = f" {particle}" if particle else ""
        conj = _third_person(verb) if do == "does" else verb
        pron = "it" if do == "does" else "they"
        return (f"{wh} {subject} {conj}{tail}",
                f"{_upper_first(subject)}: {wh.lower()} {do} {pron} {verb}{tail}?")
    m = _EN_MODAL.match(body)
    if m:
        pron = m["pron"] if m["pron"] == "I" else m["pron"].lower()
        lead = _lower_first(m["wh"].strip(), _EN_FUNCTION) if m["wh"] else "whether"
        return f"{lead} {pron} {m['modal'].lower()} {m['rest']}", None
    m = _EN_YESNO_DO.match(body)
    if m:
        pron = m["pron"] if m["pron"] == "I" else m["pron"].lower()
        return f"whether {pron} {m['rest']}", None
    m = _EN_THERE.match(body)
    if m:
        return f"whether there {m['be'].lower()} {m['rest']}", None
    m = _EN_SUBJECT.match(body)
    if m and m["verb"].lower() not in {"is", "was", "does", "has", "was"}:
        return f"{_lower_first(m['wh'], _EN_FUNCTION)} {m['verb']} {m['rest']}", None
    return None, None


def _es_shapes(body: str) -> tuple[str | None, str | None]:
    """``(embedded question, topic-first question)`` for a Spanish body (no "¿" / "?")."""
    if _ES_STARTS_WH.match(body):
        embedded = body[0].lower() + body[1:]
    else:  # a yes/no question is embedded with "si"
        embedded = "si " + _lower_first(body, _ES_FUNCTION)
    m = _ES_TOPIC.match(body)
    topic = f"{_upper_first(m['np'])}, ¿{m['wh'].lower()} {m['verb']}?" if m else None
    return embedded, topic


def _body(question: str) -> str:
    return question.strip().lstrip("¿¡").rstrip("?!. ").strip()


def _structural(question: str, lang: str) -> list[tuple[str, str]]:
    body = _body(question)
    embedded, topic = (_en_shapes if lang == "en" else _es_shapes)(body)
    found: list[tuple[str, str]] = []
    if embedded:
        found += [(t.format(e=embedded), "embedded") for t in EMBED[lang]]
    if topic:
        found.append((topic, "topic-first"))
    function = _EN_FUNCTION if lang == "en" else _ES_FUNCTION
    direct = question.strip() if question.strip().endswith("?") else body + "?"
    low = _lower_first(body, function)
    found += [(t.format(q=_lower_first(direct, function), Q=_upper_first(direct), b=low,
                        B=_upper_first(low)), "wrapper") for t in WRAP[lang]]
    return found


def candidates(question: str, language: str) -> list[tuple[str, str]]:
    """Every rule-based rewording of ``question`` as ``(text, rule)``, by rule, without repeats
    and without the question itself (compared after normalising)."""
    lang = language if language in LANGUAGES else "en"
    question = question.strip()
    if not _body(question):
        return []
    found = _structural(question, lang)
    synonym = swap_synonyms(question, lang)
    if synonym != question:  # the structural rules again, on the reworded question
        found.append((synonym, "synonyms"))
        found += [(text, f"{rule}+synonyms") for text, rule in _structural(synonym, lang)]
    seen = {normalise(question)}
    out = []
    for text, rule in found:
        key = normalise(text)
        if key and key not in seen:
            seen.add(key)
            out.append((text, rule))
    return out


#: the order rules are drawn in: structural changes first, wrappers last
_PRIORITY = ("embedded", "topic-first", "synonyms", "embedded+synonyms", "topic-first+synonyms",
             "wrapper+synonyms", "wrapper")


def paraphrase_question(question: str, language: str, n: int, *, seed: int = 0) -> list[tuple[str, str]]:
    """Up to ``n`` rewordings of ``question`` as ``(text, rule)``: one rule after another in
    ``_PRIORITY`` order (so the variants differ in kind), the wording within a rule chosen by a
    seeded hash. The same inputs always give the same variants."""
    by_rule: dict[str, list[str]] = {}
    for text, rule in candidates(question, language):
        by_rule.setdefault(rule, []).append(text)
    rng = random.Random(hashlib.sha256(f"{seed}\x00{normalise(question)}".encode()).hexdigest())
    for texts in by_rule.values():
        rng.shuffle(texts)
    out: list[tuple[str, str]] = []
    while len(out) < n and any(by_rule.values()):
        for rule in _PRIORITY:
            if by_rule.get(rule) and len(out) < n:
                out.append((by_rule[rule].pop(0), rule))
    return out


def paraphrase_answer(answer: str, language: str, variant: int) -> str:
    """A rewording of an answer that keeps every fact: synonyms on odd variants (when any word
    has one), else the answer introduced by "According to the documents, ..."."""
    lang = language if language in LANGUAGES else "en"
    if variant % 2:
        swapped = swap_synonyms(answer, lang)
        if normalise(swapped) != normalise(answer):
            return swapped
    function = _EN_FUNCTION if lang == "en" else _ES_FUNCTION
    return ANSWER_LEAD[lang].format(a=_lower_first(answer.strip(), function))


_FACT = re.compile(r"\b(?:\w*\d[\w.,:/-]*|[A-ZÁÉÍÓÚÑ][\w-]+)", re.UNICODE)


def facts(text: str) -> set[str]:
    """Numbers and capitalised words after the first word: what a rewording must keep."""
    words = _FACT.findall(text)
    first = text.strip().split(" ", 1)[0]
    return {w.strip(".,:") for w in words if w != first and w.lower() not in _EN_FUNCTION | _ES_FUNCTION}
