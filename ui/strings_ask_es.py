"""Textos en español de la comparación lado a lado de la página Preguntar (las claves anteriores
de la página están en ``ui/strings_es.py``). Mismas claves que ``ui/strings_ask_en.py``."""

STRINGS: dict[str, str] = {
    "ask.compare.intro": "Haz una pregunta sobre un corpus y mira cómo responde cada estrategia, "
                         "una al lado de otra: el modelo base solo, RAG (pasajes encontrados en el "
                         "corpus, citados como [1], [2]…), un modelo con ajuste fino e híbrido (ese "
                         "modelo ajustado con los pasajes). Cada una recibe la pregunta igual que "
                         "en Evaluar.",
    "ask.compare.strategies": "Estrategias",
    "ask.compare.strategies_help": "Modelo base: el modelo solo, sin documentos. RAG: el modelo lee "
                                   "los pasajes que mejor encajan con la pregunta. Ajuste fino: un "
                                   "modelo entrenado con tus documentos, sin documentos a la vista. "
                                   "Híbrido: ese modelo ajustado leyendo también los pasajes. "
                                   "Responden una tras otra.",
    "ask.compare.model": "Modelo con ajuste fino",
    "ask.compare.model_help": "Lo usan Ajuste fino e Híbrido. Primero los modelos entrenados con "
                              "este corpus, del más reciente al más antiguo.",
    "ask.compare.model_other_corpus": "entrenado con «{corpus}»",
    "ask.compare.no_model": "Las respuestas con ajuste fino e híbridas necesitan un modelo ajustado. "
                            "Entrena uno en la página Ajuste fino (un adaptador tarda unos minutos) "
                            "y vuelve.",
    "ask.compare.open_finetune": "Abrir Ajuste fino",
    "ask.compare.max_new_tokens_help": "El modelo se detiene tras este número de tokens (unos ¾ de "
                                       "palabra cada uno). Evaluar usa {n} por defecto, así que "
                                       "sus respuestas se leen como estas.",
    "ask.compare.pick_one": "Elige al menos una estrategia.",
    "ask.compare.waiting": "Esperando su turno…",
    "ask.compare.preparing": "Preparando el modelo…",
    "ask.compare.closed_book": "Libro cerrado: solo con lo que guardan los pesos del modelo, sin "
                               "documentos.",
    "ask.compare.summary": "Más rápida: {fastest} ({fast} s); más lenta: {slowest} ({slow} s, "
                           "{ratio} veces más). Tamaño de la instrucción: de {least} tokens "
                           "({fewest}) a {largest} ({most}).",
    "ask.metric.latency_total_help": "Tiempo desde la pregunta hasta la respuesta completa: la "
                                     "búsqueda (RAG, híbrido) más la redacción de la respuesta. La "
                                     "primera pregunta tras arrancar el laboratorio es más lenta: "
                                     "los modelos se preparan entonces.",
    "ask.made.search": "búsqueda: {mode}, {s} s",
}
