"""The memo's words in English and Spanish, and how it writes numbers, times and money.

The memo is produced by the backend (it is also downloaded and built from the command line), so
its words live here rather than in the interface catalogue; the Report page's own widgets use
``ui/strings_report_*.py``. Both languages must define the same keys with the same ``{fields}``
(a unit test checks). Strategy names follow ``backend.evaluate.wording``: Spanish names carry
their article ("el híbrido") so the grammar around them works.
"""

from __future__ import annotations

import math

from backend.evaluate.wording import format_number

EN: dict[str, str] = {
    "title": "Decision report",
    "subtitle": "{run} · corpus {corpus} · {questions} questions · {date}",
    "h.recommendation": "Recommendation",
    "h.reasons": "Why",
    "h.chart": "{metric} by strategy (mean and 95% confidence interval)",
    "h.tradeoffs": "Trade-offs on this corpus",
    "h.caveats": "Caveats",
    "h.sensitive": "Sensitive data",
    "h.settings": "Settings used",
    "priorities": "Your priorities (0 = does not matter, 5 = matters most): {items}.",
    "crit.quality": "answer quality", "crit.cost": "cost", "crit.updates": "update frequency",
    "crit.privacy": "privacy", "crit.latency": "latency",
    "why.cost": "cheaper", "why.updates": "faster to update", "why.privacy": "more private",
    "why.latency": "faster to answer", "why.simplicity": "simpler to run",
    "and": "and", "na": "n/a", "none": "none",
    # the one-sentence recommendation
    "rec.clear": "Use {choice}: it gives the best answers on this corpus — {evidence}.",
    "rec.tied": "Use {choice}: {evidence}, so the option that is {why} is preferred, as your "
                "priorities ask.",
    "rec.quality_ignored": "Use {choice}: you gave answer quality no weight, so the choice follows "
                           "your other priorities — it is the option that is {why}.",
    "rec.single": "Only {choice} was evaluated ({estimate} on {metric}): evaluate another strategy "
                  "on the same questions to compare.",
    "rec.none": "No recommendation yet: no strategy of this evaluation has scored answers.",
    # reasons
    "rsn.estimate": "{name} scores {estimate} on {metric}.",
    "rsn.cost": "Cost: {a} {a_cost} per 1,000 questions plus {a_build} to build; {b} {b_cost} "
                "plus {b_build}.",
    "rsn.cost_running": "Cost: {a} {a_cost} per 1,000 questions; {b} {b_cost}.",
    "rsn.latency": "Latency: {a} answers within {a_value} for 95% of questions, {b} within {b_value}.",
    "rsn.updates": "Updates: {a} — {a_value}; {b} — {b_value}.",
    "rsn.privacy": "Privacy: {a} — {a_value}; {b} — {b_value}.",
    # the trade-off table
    "col.strategy": "Strategy", "col.quality": "{metric}", "col.abstention": "Declines unanswerable",
    "col.latency": "Latency (p95)", "col.cost": "Cost / 1,000 questions", "col.build": "One-off build",
    "col.updates": "A document changes", "col.privacy": "Your documents",
    "upd.measured": "reflected the change after {time}",
    "upd.not_reflected": "did not reflect the change",
    "upd.reingest": "re-ingest it (indexing took {time})",
    "upd.reingest_plain": "re-ingest it",
    "upd.retrain": "retrain ({time})",
    "upd.hybrid": "re-ingest at once, retrain later ({time})",
    "upd.never": "never: it does not read your documents",
    "priv.none": "never sees them",
    "priv.database": "stay in the database (deletable)",
    "priv.weights": "learned into the weights (cannot be deleted)",
    "priv.weights_guard": "learned into the weights (cannot be deleted); personal data {decision}",
    "guard.clean": "none found", "guard.redact": "redacted", "guard.acknowledge": "kept (risk accepted)",
    "guard.unknown": "not recorded",
    # one sentence per strategy
    "to.base": "{name} needs no setup, but it does not read your documents: {score} on {metric}.",
    "to.rag": "{name} reflects a changed document as soon as it is re-ingested (indexing this corpus "
              "took {index}); it reads {tokens} prompt tokens per question (p95 latency {p95}).",
    "to.rag_plain": "{name} reflects a changed document as soon as it is re-ingested; it reads "
                    "{tokens} prompt tokens per question (p95 latency {p95}).",
    "to.finetuned": "{name} answers from short prompts ({tokens} tokens, p95 latency {p95}), but a "
                    "changed document needs a retrain (training took {train}) and what it learned "
                    "stays in its weights.",
    "to.hybrid": "{name} combines both: retrieval keeps it current, but it pays for the training "
                 "({train}) and for long prompts ({tokens} tokens, p95 latency {p95}).",
    "to.fresh": "In the freshness test, {name} {outcome}.",
    "fresh.after": "reflected the updated document as soon as it was ingested ({time} after the "
                   "change)",
    "fresh.current": "already gave the updated answer before the change",
    "fresh.retrain": "needed a {time} retrain to reflect the updated document",
    "fresh.never": "did not reflect the updated document",
    # caveats
    "cav.sample": "Sample: {n} questions ({answerable} with a reference answer, {unanswerable} "
                  "that the documents cannot answer).",
    "cav.sample_small": "Small sample: {n} questions ({answerable} with a reference answer). "
                        "Intervals are wide: differences smaller than about {width} cannot be told "
                        "apart from chance.",
    "cav.no_judge": "No LLM judge was used: scores compare each answer with its reference answer "
                    "(meaning and wording); they do not check every claim against the documents.",
    "cav.judge": "An LLM judge ({model}) scored {metrics}.",
    "cav.model_small": "Answers come from {model}, a very small model (135 million parameters) "
                       "that runs on this machine: absolute scores are low, and the ranking may "
                       "change with a larger model. Any Hugging Face model or OpenAI-compatible "
                       "endpoint can be set in Settings.",
    "cav.model": "Answers come from {model}.",
    "cav.language": "The bundled models are English-first (SmolLM2 writes the answers, MiniLM "
                    "embeds English text): Spanish answers are weaker. This evaluation's "
                    "language: {language}.",
    "cav.failed": "{name}: {failed} of {total} answers failed and were left out, not counted as zero.",
    "cav.unscored": "{name} has no scored answers and is left out of the recommendation.",
    "cav.unfinished": "The evaluation is not finished: {answered} of {total} answers so far.",
    "cav.no_freshness": "No freshness test was run: how fast each strategy reflects a changed "
                        "document is inferred from its indexing and training times.",
    "cav.metric": "The recommendation rests on one metric, {metric}; the evaluation's results show "
                  "the others.",
    "lang.en": "English", "lang.es": "Spanish", "lang.mixed": "English and Spanish",
    # sensitive data
    "sen.corpus_clean": "The scanner found no personal data in the corpus's {docs} documents "
                        "(e-mail addresses, phone numbers, bank accounts, card and ID numbers).",
    "sen.corpus": "Documents with personal data: {with_data} of the corpus's {docs} ({kinds}). "
                  "Retrieval passes such passages to the model as they are.",
    "sen.corpus_gone": "The corpus of this evaluation was deleted: its sensitive-data counts are "
                       "no longer available.",
    "sen.no_models": "No strategy of this evaluation was trained on the documents.",
    "sen.model.clean": "{model}: the guard found no personal data in its training examples.",
    "sen.model.redact": "{model}: the guard found {kinds} in {examples} of its training "
                        "examples; they were redacted (replaced by placeholders such as [EMAIL]) "
                        "before training.",
    "sen.model.acknowledge": "{model}: the guard found {kinds} in {examples} of its training "
                             "examples; the user chose to train on them as they are, accepting "
                             "the risk.",
    "sen.model.unknown": "{model}: no sensitive-data decision was recorded.",
    "sen.model.gone": "{model}: the model was deleted; its record is no longer available.",
    # settings
    "set.run": "Evaluation run", "set.questions": "Question set", "set.corpus": "Corpus",
    "set.embedding": "Embedding model (answer similarity)", "set.metrics": "Metrics",
    "set.seed": "Seed (bootstrap and sampling)", "set.prices": "Prices",
    "set.strategy": "Strategy: {name}", "set.judge": "LLM judge",
    "set.questions_value": "{name} v{version}, {part} part ({n} questions)",
    "set.corpus_value": "{name}, version {version}",
    "set.prices_value": "{hour} per machine hour; endpoint tokens {tin} in / {tout} out per 1,000",
    "part.held_out": "held-out", "part.train": "training", "part.all": "whole",
    "footer": "Made with Strategy Lab on {date} from evaluation run {run_id}.",
    "col.mean": "Mean", "col.ci": "95% CI", "col.n": "Questions scored",
    "col.setting": "Setting", "col.value": "Value",
}

ES: dict[str, str] = {
    "title": "Informe de decisión",
    "subtitle": "{run} · corpus {corpus} · {questions} preguntas · {date}",
    "h.recommendation": "Recomendación",
    "h.reasons": "Por qué",
    "h.chart": "{metric} por estrategia (media e intervalo de confianza del 95 %)",
    "h.tradeoffs": "Compromisos en este corpus",
    "h.caveats": "Advertencias",
    "h.sensitive": "Datos sensibles",
    "h.settings": "Configuración utilizada",
    "priorities": "Tus prioridades (0 = no importa, 5 = importa mucho): {items}.",
    "crit.quality": "calidad de las respuestas", "crit.cost": "coste",
    "crit.updates": "frecuencia de actualización", "crit.privacy": "privacidad", "crit.latency": "latencia",
    "why.cost": "más barata", "why.updates": "más rápida de actualizar", "why.privacy": "más privada",
    "why.latency": "más rápida en responder", "why.simplicity": "más sencilla de mantener",
    "and": "y", "na": "n/d", "none": "ninguno",
    "rec.clear": "Usa {choice}: da las mejores respuestas en este corpus — {evidence}.",
    "rec.tied": "Usa {choice}: {evidence}, así que se prefiere la opción {why}, como piden tus "
                "prioridades.",
    "rec.quality_ignored": "Usa {choice}: no diste peso a la calidad de las respuestas, así que la "
                           "elección sigue tus otras prioridades — es la opción {why}.",
    "rec.single": "Solo se evaluó {choice} ({estimate} en {metric}): evalúa otra estrategia con las "
                  "mismas preguntas para comparar.",
    "rec.none": "Aún no hay recomendación: ninguna estrategia de esta evaluación tiene respuestas "
                "puntuadas.",
    "rsn.estimate": "{name} obtiene {estimate} en {metric}.",
    "rsn.cost": "Coste: {a}, {a_cost} por cada 1000 preguntas más {a_build} de preparación; {b}, "
                "{b_cost} más {b_build}.",
    "rsn.cost_running": "Coste: {a}, {a_cost} por cada 1000 preguntas; {b}, {b_cost}.",
    "rsn.latency": "Latencia: {a} responde en menos de {a_value} el 95 % de las veces; {b}, en menos "
                   "de {b_value}.",
    "rsn.updates": "Actualizaciones: {a} — {a_value}; {b} — {b_value}.",
    "rsn.privacy": "Privacidad: {a} — {a_value}; {b} — {b_value}.",
    "col.strategy": "Estrategia", "col.quality": "{metric}", "col.abstention": "Rechaza sin respuesta",
    "col.latency": "Latencia (p95)", "col.cost": "Coste / 1000 preguntas", "col.build": "Preparación",
    "col.updates": "Si cambia un documento", "col.privacy": "Tus documentos",
    "upd.measured": "reflejó el cambio tras {time}",
    "upd.not_reflected": "no reflejó el cambio",
    "upd.reingest": "reingerirlo (indexar llevó {time})",
    "upd.reingest_plain": "reingerirlo",
    "upd.retrain": "reentrenar ({time})",
    "upd.hybrid": "reingerir al momento, reentrenar después ({time})",
    "upd.never": "nunca: no lee tus documentos",
    "priv.none": "nunca los ve",
    "priv.database": "quedan en la base de datos (se pueden borrar)",
    "priv.weights": "aprendidos en los pesos (no se pueden borrar)",
    "priv.weights_guard": "aprendidos en los pesos (no se pueden borrar); datos personales: {decision}",
    "guard.clean": "no se encontraron", "guard.redact": "enmascarados",
    "guard.acknowledge": "mantenidos (riesgo aceptado)", "guard.unknown": "sin registrar",
    "to.base": "{name} no necesita preparación, pero no lee tus documentos: {score} en {metric}.",
    "to.rag": "{name} refleja un documento modificado en cuanto se reingiere (indexar este corpus "
              "llevó {index}); lee {tokens} tokens de instrucciones por pregunta (latencia p95 {p95}).",
    "to.rag_plain": "{name} refleja un documento modificado en cuanto se reingiere; lee {tokens} "
                    "tokens de instrucciones por pregunta (latencia p95 {p95}).",
    "to.finetuned": "{name} responde con instrucciones cortas ({tokens} tokens, latencia p95 {p95}), "
                    "pero un documento modificado exige reentrenar (el entrenamiento llevó {train}) "
                    "y lo aprendido queda en sus pesos.",
    "to.hybrid": "{name} combina ambos: la recuperación lo mantiene al día, pero paga el "
                 "entrenamiento ({train}) y las instrucciones largas ({tokens} tokens, latencia p95 "
                 "{p95}).",
    "to.fresh": "En la prueba de actualización, {name} {outcome}.",
    "fresh.after": "reflejó el documento actualizado en cuanto se ingirió ({time} después del "
                   "cambio)",
    "fresh.current": "ya daba la respuesta actualizada antes del cambio",
    "fresh.retrain": "necesitó reentrenar durante {time} para reflejar el documento actualizado",
    "fresh.never": "no reflejó el documento actualizado",
    "cav.sample": "Muestra: {n} preguntas ({answerable} con respuesta de referencia, {unanswerable} "
                  "que los documentos no pueden responder).",
    "cav.sample_small": "Muestra pequeña: {n} preguntas ({answerable} con respuesta de referencia). "
                        "Los intervalos son amplios: diferencias menores de unos {width} no se "
                        "distinguen del azar.",
    "cav.no_judge": "No se usó un modelo juez: las puntuaciones comparan cada respuesta con su "
                    "respuesta de referencia (significado y palabras); no comprueban cada "
                    "afirmación con los documentos.",
    "cav.judge": "Un modelo juez ({model}) puntuó {metrics}.",
    "cav.model_small": "Las respuestas vienen de {model}, un modelo muy pequeño (135 millones de "
                       "parámetros) que se ejecuta en esta máquina: las puntuaciones absolutas son "
                       "bajas y el orden puede cambiar con un modelo mayor. En Configuración se "
                       "puede elegir cualquier modelo de Hugging Face o un servicio compatible con "
                       "OpenAI.",
    "cav.model": "Las respuestas vienen de {model}.",
    "cav.language": "Los modelos incluidos están pensados sobre todo para inglés (SmolLM2 escribe "
                    "las respuestas, MiniLM representa el texto en inglés): las respuestas en "
                    "español son más flojas. Idioma de esta evaluación: {language}.",
    "cav.failed": "{name}: {failed} de {total} respuestas fallaron y se dejaron fuera, sin contarlas "
                  "como cero.",
    "cav.unscored": "{name} no tiene respuestas puntuadas y queda fuera de la recomendación.",
    "cav.unfinished": "La evaluación no ha terminado: {answered} de {total} respuestas por ahora.",
    "cav.no_freshness": "No se hizo la prueba de actualización: la rapidez con que cada estrategia "
                        "refleja un documento modificado se deduce de sus tiempos de indexación y "
                        "entrenamiento.",
    "cav.metric": "La recomendación se basa en una métrica, {metric}; los resultados de la "
                  "evaluación muestran las demás.",
    "lang.en": "inglés", "lang.es": "español", "lang.mixed": "inglés y español",
    "sen.corpus_clean": "El detector no encontró datos personales en los {docs} documentos del corpus "
                        "(correos, teléfonos, cuentas bancarias, números de tarjeta y de documentos "
                        "de identidad).",
    "sen.corpus": "Documentos con datos personales: {with_data} de los {docs} del corpus "
                  "({kinds}). La recuperación pasa esos fragmentos al modelo tal cual.",
    "sen.corpus_gone": "El corpus de esta evaluación se borró: sus recuentos de datos sensibles ya "
                       "no están disponibles.",
    "sen.no_models": "Ninguna estrategia de esta evaluación se entrenó con los documentos.",
    "sen.model.clean": "{model}: el filtro no encontró datos personales en sus ejemplos de "
                       "entrenamiento.",
    "sen.model.redact": "{model}: el filtro encontró {kinds} en {examples} de sus ejemplos de "
                        "entrenamiento; se enmascararon (sustituidos por marcas como [EMAIL]) antes "
                        "de entrenar.",
    "sen.model.acknowledge": "{model}: el filtro encontró {kinds} en {examples} de sus ejemplos de "
                             "entrenamiento; se eligió entrenar con ellos tal cual, aceptando el "
                             "riesgo.",
    "sen.model.unknown": "{model}: no se registró ninguna decisión sobre datos sensibles.",
    "sen.model.gone": "{model}: el modelo se borró; su registro ya no está disponible.",
    "set.run": "Evaluación", "set.questions": "Conjunto de preguntas", "set.corpus": "Corpus",
    "set.embedding": "Modelo de embeddings (similitud de respuesta)", "set.metrics": "Métricas",
    "set.seed": "Semilla (bootstrap y muestreo)", "set.prices": "Precios",
    "set.strategy": "Estrategia: {name}", "set.judge": "Modelo juez",
    "set.questions_value": "{name} v{version}, parte {part} ({n} preguntas)",
    "set.corpus_value": "{name}, versión {version}",
    "set.prices_value": "{hour} por hora de máquina; tokens del servicio {tin} de entrada / {tout} "
                        "de salida por cada 1000",
    "part.held_out": "reservada", "part.train": "de entrenamiento", "part.all": "completa",
    "footer": "Hecho con Strategy Lab el {date} a partir de la evaluación {run_id}.",
    "col.mean": "Media", "col.ci": "IC 95 %", "col.n": "Preguntas puntuadas",
    "col.setting": "Ajuste", "col.value": "Valor",
}

CATALOGUE = {"en": EN, "es": ES}

#: the default labels the runner gives each kind -> how the memo names them
_NAMES = {
    "en": {"base": ("the base model", "Base model"), "rag": ("RAG", "RAG"),
           "finetuned": ("the fine-tuned model", "Fine-tuned model"),
           "hybrid": ("the hybrid", "Hybrid")},
    "es": {"base": ("el modelo base", "Modelo base"), "rag": ("RAG", "RAG"),
           "finetuned": ("el modelo con ajuste fino", "Ajuste fino"), "hybrid": ("el híbrido", "Híbrido")},
}
DEFAULT_LABELS = {"base": "Base", "rag": "RAG", "finetuned": "Fine-tuned", "hybrid": "Hybrid"}

METRIC_LABELS = {
    "en": {"semantic_similarity": "answer similarity", "rouge_l": "ROUGE-L", "bleu": "BLEU",
           "chrf": "chrF", "string_similarity": "text similarity", "exact_match": "exact match",
           "token_f1": "word overlap (F1)", "context_precision": "context precision",
           "context_recall": "context recall", "abstention": "declining unanswerable questions",
           "false_abstention": "declining answerable questions", "faithfulness": "faithfulness",
           "response_relevancy": "relevance", "llm_context_precision": "context precision (judge)",
           "llm_context_recall": "context recall (judge)",
           "factual_correctness": "factual correctness"},
    "es": {"semantic_similarity": "similitud de respuesta", "rouge_l": "ROUGE-L", "bleu": "BLEU",
           "chrf": "chrF", "string_similarity": "similitud de texto",
           "exact_match": "coincidencia exacta", "token_f1": "solapamiento de palabras (F1)",
           "context_precision": "precisión del contexto", "context_recall": "exhaustividad del contexto",
           "abstention": "rechazo de preguntas sin respuesta",
           "false_abstention": "rechazo de preguntas con respuesta", "faithfulness": "fidelidad",
           "response_relevancy": "pertinencia",
           "llm_context_precision": "precisión del contexto (juez)",
           "llm_context_recall": "exhaustividad del contexto (juez)",
           "factual_correctness": "corrección factual"},
}

SENSITIVE_KINDS = {
    "en": {"email": "e-mail addresses", "iban": "IBAN bank accounts", "card": "payment card numbers",
           "nie": "NIE foreigner IDs", "dni": "DNI national IDs",
           "ssn": "US social security numbers", "phone": "phone numbers", "ip": "IP addresses"},
    "es": {"email": "correos electrónicos", "iban": "cuentas bancarias IBAN",
           "card": "números de tarjeta", "nie": "NIE", "dni": "DNI",
           "ssn": "números de la seguridad social de EE. UU.", "phone": "teléfonos",
           "ip": "direcciones IP"},
}


def lang_of(language: str) -> str:
    """"en" or "es" for a language code ("es-ES" -> "es"); anything else reads in English."""
    code = (language or "").lower()[:2]
    return code if code in CATALOGUE else "en"


def say(language: str, key: str, /, **fmt: object) -> str:
    """The memo text ``key`` in ``language`` with its ``{fields}`` filled in."""
    text = CATALOGUE[lang_of(language)][key]
    return text.format(**fmt) if fmt else text


def capital(text: str) -> str:
    """``text`` with its first letter upper-cased (sentences often start with a name)."""
    return text[:1].upper() + text[1:] if text else text


def strategy_name(label: str, kind: str, language: str, *, title: bool = False) -> str:
    """How the memo names a strategy: a default label becomes the language's name for its kind
    (in Spanish with its article inside sentences); a label the user chose is kept."""
    names = _NAMES[lang_of(language)]
    if kind in names and label == DEFAULT_LABELS.get(kind):
        return names[kind][1 if title else 0]
    return label


def metric_label(metric: str, language: str) -> str:
    """The metric's plain name ("answer similarity" / "similitud de respuesta")."""
    return METRIC_LABELS[lang_of(language)].get(metric, metric.replace("_", " "))


def join(items: list[str], language: str) -> str:
    """"a", "a and b", "a, b and c" (Spanish "y")."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {say(language, 'and')} {items[-1]}"


def number(value: float | None, language: str, decimals: int = 2) -> str:
    """A score with the language's decimal mark; "n/a" for a missing one."""
    if value is None or not math.isfinite(value):
        return say(language, "na")
    return format_number(value, lang_of(language), decimals)


def duration(seconds: float | None, language: str) -> str:
    """"0.4 s", "14 s", "2 min 5 s", "1 h 3 min"; "n/a" when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return say(language, "na")
    if seconds == 0:
        return "0 s"
    if seconds < 10:
        return f"{format_number(seconds, lang_of(language), 1)} s"
    total = int(round(seconds))
    if total < 60:
        return f"{total} s"
    if total < 3600:
        minutes, rest = divmod(total, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(total // 60, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def money(usd: float | None, language: str) -> str:
    """US dollars with enough decimals to show small amounts: "$0.12", "$0.0041" / "0,12 US$"."""
    if usd is None or not math.isfinite(usd):
        return say(language, "na")
    decimals = 2
    while usd and abs(usd) < 10 ** -decimals * 10 and decimals < 6:
        decimals += 1  # keep two significant digits of a tiny amount
    text = format_number(usd, lang_of(language), decimals)
    return f"{text} US$" if lang_of(language) == "es" else f"${text}"
