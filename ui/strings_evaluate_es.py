"""Textos en español de la página Evaluar y los nombres y explicaciones de las métricas. Mismas
claves que ``ui/strings_evaluate_en.py``."""

STRINGS: dict[str, str] = {
    # --- página ----------------------------------------------------------------------------------
    "evaluate.title": "Evaluar",
    "evaluate.intro": "¿Qué estrategia responde mejor, por cuánto y a qué coste? Todas responden a "
                      "las mismas preguntas reservadas y reciben las mismas puntuaciones, cada una "
                      "con su intervalo de confianza del 95 % y su tamaño de muestra.",
    "evaluate.empty": "Aún no hay evaluaciones: crea un conjunto de preguntas en Ajuste fino y lanza "
                      "aquí una evaluación (o carga la demo).",
    "evaluate.tab.overview": "Resumen",
    "evaluate.tab.tradeoffs": "Compromisos",
    "evaluate.tab.questions": "Por pregunta",
    "evaluate.tab.h2h": "Cara a cara",
    "evaluate.tab.unanswerable": "Sin respuesta",
    "evaluate.tab.compare": "Comparar evaluaciones",
    "evaluate.n": "n = {n}",
    "evaluate.n_paired": "{n} preguntas comparadas",

    # --- lanzar ----------------------------------------------------------------------------------
    "evaluate.launch.title": "Nueva evaluación",
    "evaluate.launch.set": "Conjunto de preguntas",
    "evaluate.launch.set_option": "{name} v{version} · {corpus} · {n} preguntas ({held_out} "
                                  "reservadas)",
    "evaluate.launch.set_help": "Las preguntas con respuesta de referencia con las que se puntúa "
                                "cada estrategia. Se crean en la página Ajuste fino.",
    "evaluate.launch.part": "Preguntas",
    "evaluate.launch.part_help": "Reservadas: las que ningún ajuste fino ha visto al entrenar, la "
                                 "prueba justa. Entrenamiento: las que sí vio (mide la memoria).",
    "evaluate.part.held_out": "Reservadas",
    "evaluate.part.train": "Entrenamiento",
    "evaluate.part.all": "Todas",
    "evaluate.launch.strategies": "Estrategias que comparar",
    "evaluate.launch.base": "Modelo base (sin documentos)",
    "evaluate.launch.base_help": "El modelo solo, sin tus documentos: la referencia con la que se "
                                 "mide cada estrategia.",
    "evaluate.launch.rag": "RAG (modelo base + búsqueda en los documentos)",
    "evaluate.launch.rag_help": "Generación aumentada por recuperación: los fragmentos del corpus "
                                "que mejor encajan con la pregunta van en la instrucción.",
    "evaluate.launch.mode": "Búsqueda",
    "evaluate.launch.mode_help": "Cómo se encuentran los fragmentos, para RAG y las híbridas: por "
                                 "significado (vectorial), por palabras clave (texto completo) o "
                                 "ambas.",
    "evaluate.mode.hybrid": "Híbrida (ambas)",
    "evaluate.mode.vector": "Significado (vectorial)",
    "evaluate.mode.text": "Palabras clave",
    "evaluate.launch.k": "Fragmentos por pregunta",
    "evaluate.launch.k_help": "Cuántos fragmentos recuperados van en la instrucción.",
    "evaluate.launch.finetuned": "Modelos con ajuste fino (sin documentos)",
    "evaluate.launch.finetuned_help": "Modelos con ajuste fino registrados; cada uno responde sin "
                                      "los documentos, con lo que aprendió.",
    "evaluate.launch.hybrid": "Híbrida (modelo con ajuste fino + búsqueda)",
    "evaluate.launch.hybrid_help": "Un modelo con ajuste fino que además recibe los fragmentos "
                                   "recuperados, con la búsqueda de arriba.",
    "evaluate.launch.pick_models": "Elige modelos",
    "evaluate.launch.no_models": "Aún no hay modelos con ajuste fino: entrena uno en la página "
                                 "Ajuste fino para añadir estrategias con ajuste fino e híbridas.",
    "evaluate.launch.max_new_tokens": "Respuesta más larga (tokens)",
    "evaluate.launch.max_new_tokens_help": "Las respuestas se cortan tras estos tokens. Respuestas "
                                           "cortas hacen la evaluación más rápida; las referencias "
                                           "tienen una o dos frases.",
    "evaluate.launch.name": "Nombre (opcional)",
    "evaluate.launch.name_placeholder": "p. ej. RAG k=3 frente al modelo base",
    "evaluate.launch.submit": "Empezar la evaluación",
    "evaluate.launch.no_strategy": "Elige al menos una estrategia.",
    "evaluate.launch.started": "Empezó {name}: {n} preguntas × {strategies} estrategias.",

    # --- la evaluación elegida -------------------------------------------------------------------
    "evaluate.run.pick": "Evaluación",
    "evaluate.run.set": "Conjunto {name} v{version} ({part})",
    "evaluate.run.questions": "{n} preguntas",
    "evaluate.run.corpus": "corpus {name}, versión {version}",
    "evaluate.run.strategies": "Estrategias y ajustes ({n})",
    "evaluate.run.wait": "Los resultados aparecerán aquí al terminar; mientras, puedes salir de la "
                         "página.",
    "evaluate.run.partial": "Esta evaluación está incompleta: {answered} de {total} respuestas, "
                            "{scored} puntuadas. Los resultados cubren solo lo hecho.",
    "evaluate.run.deleted": "Se eliminó la evaluación {name}.",
    "evaluate.resume": "Reanudar",
    "evaluate.resume_help": "Responde y puntúa solo lo que falta, con la misma versión del corpus.",
    "evaluate.export.csv": "CSV",
    "evaluate.export.csv_help": "Una fila por pregunta y estrategia: la respuesta, la latencia, los "
                                "tokens y cada puntuación con su estado.",
    "evaluate.export.json": "JSON",
    "evaluate.export.json_help": "La evaluación, los ajustes de cada estrategia, el resumen y cada "
                                 "respuesta con sus puntuaciones.",
    "evaluate.delete": "Eliminar",
    "evaluate.delete_warning": "¿Eliminar la evaluación {name} con todas sus respuestas y "
                               "puntuaciones? No se puede deshacer.",
    "evaluate.delete_confirm": "Eliminar esta evaluación",

    # --- titular y resumen -----------------------------------------------------------------------
    "evaluate.headline_caption": "media de las preguntas, cambio frente al modelo base",
    "evaluate.vs_base": "frente al base",
    "evaluate.overview.caption": "Las barras muestran la puntuación media de cada estrategia por "
                                 "métrica, y los bigotes su intervalo de confianza del 95 %. Las "
                                 "columnas rayadas no tienen puntuación: la métrica no se aplica o "
                                 "todas fallaron.",
    "evaluate.axis.score": "Puntuación (más es mejor)",
    "evaluate.chart.not_applicable": "no se aplica: sin contexto",
    "evaluate.chart.failed": "fallidas: {n}",
    "evaluate.cell.not_applicable": "no se aplica",
    "evaluate.cell.failed": "fallidas ({n})",
    "evaluate.cell.missing": "sin puntuar aún",
    "evaluate.cell.some_failed": "; {n} fallidas",
    "evaluate.needs_judge": "Necesitan un juez: {metrics}. Configura un modelo juez en "
                            "Configuración para añadir estas puntuaciones.",
    "evaluate.not_judged": "Aún sin juzgar: {metrics}. Hay un juez configurado; juzga esta evaluación "
                            "para añadir estas puntuaciones.",
    "evaluate.metrics_explained": "Qué mide cada métrica",

    # --- compromisos -----------------------------------------------------------------------------
    "evaluate.tradeoff.axis": "Comparar la calidad con",
    "evaluate.tradeoff.latency": "Respuestas más lentas (latencia p95, s)",
    "evaluate.tradeoff.cost": "Coste por 1.000 preguntas (USD)",
    "evaluate.tradeoff.size": "Coste inicial de preparación",
    "evaluate.tradeoff.caption": "Arriba a la izquierda es mejor. Tamaño del punto: el coste único "
                                 "de preparar la estrategia (indexar y entrenar); un punto hueco "
                                 "indica que no se conoce.",
    "evaluate.build.none": "ninguno",
    "evaluate.build.unknown": "no se conoce",
    "evaluate.build.value": "{duration} ({cost} USD)",
    "evaluate.col.strategy": "Estrategia",
    "evaluate.col.answered": "Respondidas",
    "evaluate.col.latency_mean": "Latencia media",
    "evaluate.col.latency_p95": "Latencia p95",
    "evaluate.col.tokens": "Tokens de entrada / salida",
    "evaluate.col.cost": "Por 1.000 preguntas",
    "evaluate.col.build": "Preparación (única)",

    # --- por pregunta ----------------------------------------------------------------------------
    "evaluate.question.metric": "Colorear por",
    "evaluate.question.caption": "Haz clic en una celda, o elige una pregunta abajo, para leer la "
                                 "respuesta de cada estrategia junto a la referencia.",
    "evaluate.question.open": "Pregunta",
    "evaluate.heat.not_applicable": "n/a",
    "evaluate.heat.failed": "fallo",
    "evaluate.heat.missing": "…",
    "evaluate.question.unanswerable": "Sin respuesta en los documentos",
    "evaluate.question.reference": "Respuesta de referencia",
    "evaluate.question.no_reference": "(ninguna)",
    "evaluate.question.reference_passages": "Fragmentos de referencia ({n})",
    "evaluate.question.not_answered": "Aún sin responder.",
    "evaluate.question.failed": "Sin respuesta: {error}",
    "evaluate.question.cost": "{latency} s · {tokens_in} tokens de entrada, {tokens_out} de salida",
    "evaluate.question.closed_book": "Sin documentos: no recibió fragmentos.",
    "evaluate.question.passages": "Fragmentos recibidos ({n})",

    # --- cara a cara -----------------------------------------------------------------------------
    "evaluate.h2h.a": "Estrategia",
    "evaluate.h2h.b": "frente a",
    "evaluate.h2h.metric": "En",
    "evaluate.h2h.one_strategy": "Esta evaluación tiene una sola estrategia: añade otra para "
                                 "compararlas.",
    "evaluate.h2h.same": "Elige dos estrategias distintas.",
    "evaluate.h2h.caption": "Emparejadas por pregunta: {n} preguntas puntuadas en ambas. Una "
                            "diferencia de ±{tolerance} o menos cuenta como empate. Wilcoxon de "
                            "rangos con signo: p = {p}.",
    "evaluate.h2h.wins": "Mejor: {name}",
    "evaluate.h2h.questions": "Preguntas",
    "evaluate.h2h.ties": "Empate",
    "evaluate.h2h.difference": "{a} − {b}, {metric} (diferencia media, IC 95 %)",
    "evaluate.sentence.base": "el modelo base",
    "evaluate.sentence.rag": "RAG",
    "evaluate.sentence.finetuned": "el modelo con ajuste fino",
    "evaluate.sentence.hybrid": "el híbrido",

    # --- sin respuesta ---------------------------------------------------------------------------
    "evaluate.unanswerable.caption": "Preguntas que los documentos no responden ({n} en esta "
                                     "evaluación): la proporción que cada estrategia rechaza "
                                     "correctamente, con su IC 95 %.",
    "evaluate.unanswerable.rate": "Rechazadas (más es mejor)",
    "evaluate.unanswerable.false_caption": "Preguntas con respuesta que la estrategia rechazó "
                                           "igualmente, con su IC 95 %.",
    "evaluate.unanswerable.false_rate": "Rechazadas aunque tenían respuesta (menos es mejor)",
    "evaluate.unanswerable.none": "Esta evaluación no tiene preguntas sin respuesta. Añade algunas "
                                  "al conjunto (con la etiqueta unanswerable) para medir la "
                                  "abstención.",
    "evaluate.unanswerable.not_measured": "Esta evaluación no midió la abstención.",

    # --- comparar evaluaciones -------------------------------------------------------------------
    "evaluate.compare.other": "Comparar con",
    "evaluate.compare.metric": "En",
    "evaluate.compare.none": "Aún no hay otra evaluación con la que comparar.",
    "evaluate.compare.no_metric": "La otra evaluación no tiene puntuaciones de esta métrica.",
    "evaluate.compare.nothing_shared": "Las dos evaluaciones no comparten ninguna estrategia (se "
                                       "emparejan por nombre).",
    "evaluate.compare.this_run": "esta evaluación",
    "evaluate.compare.unmatched": "Solo en una de ellas: {names}.",
    "evaluate.compare.versions": "Usaron versiones distintas del corpus ({this} aquí, {other} "
                                 "allí): las diferencias pueden venir de los documentos.",

    # --- métricas --------------------------------------------------------------------------------
    "metric.semantic_similarity": "Similitud de respuesta",
    "metric.semantic_similarity.plain": "La respuesta significa lo mismo que la referencia "
                                        "(similitud semántica).",
    "metric.semantic_similarity.help": "Similitud del coseno entre los vectores de frase de la "
                                       "respuesta y de la referencia, con un modelo adecuado al "
                                       "idioma de las preguntas (Ragas SemanticSimilarity). 1 = "
                                       "mismo significado; un texto sin relación da cerca de 0.",
    "metric.rouge_l": "ROUGE-L",
    "metric.rouge_l.plain": "La respuesta repite las palabras de la referencia en el mismo orden.",
    "metric.rouge_l.help": "La secuencia de palabras común más larga, como medida F (Ragas "
                           "RougeScore). De 0 a 1. Cuenta de menos las palabras con tilde.",
    "metric.bleu": "BLEU",
    "metric.bleu.plain": "La respuesta comparte secuencias cortas de palabras con la referencia.",
    "metric.bleu.help": "Coincidencia de secuencias de 1 a 4 palabras, con penalización para "
                        "respuestas cortas (Ragas BleuScore). De 0 a 1; estricta con respuestas "
                        "libres.",
    "metric.chrf": "chrF",
    "metric.chrf.plain": "La respuesta comparte secuencias de caracteres con la referencia.",
    "metric.chrf.help": "Medida F de n-gramas de caracteres (Ragas ChrfScore). De 0 a 1; tolera "
                        "terminaciones y orden, va bien en español.",
    "metric.string_similarity": "Similitud de texto",
    "metric.string_similarity.plain": "La respuesta se escribe como la referencia.",
    "metric.string_similarity.help": "Uno menos la distancia de edición normalizada (Levenshtein, "
                                     "Ragas NonLLMStringSimilarity). 1 = texto idéntico.",
    "metric.exact_match": "Coincidencia exacta",
    "metric.exact_match.plain": "La respuesta es exactamente la referencia.",
    "metric.exact_match.help": "1 si respuesta y referencia son iguales sin contar mayúsculas, "
                               "puntuación, artículos y espacios; si no, 0. Solo tiene sentido "
                               "para respuestas breves.",
    "metric.token_f1": "Palabras en común (F1)",
    "metric.token_f1.plain": "Respuesta y referencia usan las mismas palabras.",
    "metric.token_f1.help": "F1 de las palabras compartidas, como en SQuAD, tras la misma limpieza "
                            "que la coincidencia exacta. De 0 a 1.",
    "metric.context_precision": "Precisión del contexto",
    "metric.context_precision.plain": "Los fragmentos encontrados son los adecuados.",
    "metric.context_precision.help": "Proporción de fragmentos recuperados que contienen un "
                                     "fragmento de referencia, con más peso arriba (Ragas, sin "
                                     "LLM). De 0 a 1. No se aplica sin recuperación.",
    "metric.context_recall": "Exhaustividad del contexto",
    "metric.context_recall.plain": "Se encontraron los fragmentos necesarios.",
    "metric.context_recall.help": "Proporción de fragmentos de referencia encontrados entre los "
                                  "recuperados (Ragas, sin LLM). De 0 a 1. No se aplica sin "
                                  "recuperación.",
    "metric.abstention": "Abstención",
    "metric.abstention.plain": "Dice «no lo sé» cuando los documentos no tienen la respuesta.",
    "metric.abstention.help": "En preguntas sin respuesta: 1 si la estrategia se abstiene, 0 si "
                              "responde igualmente. La media es la proporción bien rechazada.",
    "metric.false_abstention": "Abstención innecesaria",
    "metric.false_abstention.plain": "Dice «no lo sé» aunque los documentos tienen la respuesta.",
    "metric.false_abstention.help": "En preguntas con respuesta: 1 si la estrategia se abstiene. "
                                    "Menos es mejor.",
    "metric.faithfulness": "Fidelidad",
    "metric.faithfulness.plain": "La respuesta solo afirma lo que dicen los fragmentos.",
    "metric.faithfulness.help": "Proporción de afirmaciones de la respuesta respaldadas por los "
                                "fragmentos recuperados (Ragas Faithfulness, juez LLM). De 0 a 1.",
    "metric.response_relevancy": "Pertinencia de la respuesta",
    "metric.response_relevancy.plain": "La respuesta atiende a la pregunta.",
    "metric.response_relevancy.help": "Cuán directamente responde a la pregunta (Ragas "
                                      "ResponseRelevancy, juez LLM).",
    "metric.llm_context_precision": "Precisión del contexto (juez)",
    "metric.llm_context_precision.plain": "Un juez considera útiles los fragmentos.",
    "metric.llm_context_precision.help": "Proporción de fragmentos recuperados que el juez "
                                         "considera útiles para la respuesta de referencia, con más "
                                         "peso arriba (Ragas, juez LLM).",
    "metric.llm_context_recall": "Exhaustividad del contexto (juez)",
    "metric.llm_context_recall.plain": "Un juez encuentra en los fragmentos los datos de la "
                                       "referencia.",
    "metric.llm_context_recall.help": "Proporción de afirmaciones de la referencia respaldadas por "
                                      "los fragmentos recuperados (Ragas LLMContextRecall).",
    "metric.factual_correctness": "Corrección factual",
    "metric.factual_correctness.plain": "La respuesta afirma los mismos hechos que la referencia.",
    "metric.factual_correctness.help": "F1 de las afirmaciones compartidas por respuesta y "
                                       "referencia (Ragas FactualCorrectness, juez LLM).",
}
