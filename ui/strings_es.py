"""Textos de la interfaz en español. Mismas claves que ``ui/strings_en.py``.

Frases cortas. «Ajuste fino» para fine-tuning; «generación aumentada por recuperación (RAG)» la
primera vez, luego «RAG».
"""

STRINGS: dict[str, str] = {
    # --- marco ------------------------------------------------------------------------------------
    "app.title": "Strategy Lab",
    "nav.home": "Inicio",
    "nav.corpora": "Corpus",
    "nav.ask": "Preguntar",
    "nav.finetune": "Ajuste fino",
    "nav.evaluate": "Evaluar",
    "nav.report": "Informe",
    "nav.settings": "Configuración",
    "sidebar.language": "Language · Idioma",
    "language.en": "English",
    "language.es": "Español",
    "sidebar.database_ok": "Base de datos {version}",
    "sidebar.database_down": "Base de datos no disponible",
    "sidebar.worker_ok": "Proceso de tareas activo",
    "sidebar.worker_down": "Proceso de tareas detenido",

    # --- estrategias ---------------------------------------------------------------------------------
    "strategy.base": "Modelo base",
    "strategy.rag": "RAG",
    "strategy.finetuned": "Ajuste fino",
    "strategy.hybrid": "Híbrido",

    # --- inicio ----------------------------------------------------------------------------------------
    "home.headline": "¿Cómo debe aprender tu modelo tus documentos?",
    "home.intro": "Strategy Lab prepara tres formas de que un modelo de lenguaje responda con tus "
                  "documentos y las mide con las mismas preguntas. Verás cuál responde mejor, con "
                  "qué rapidez y a qué coste.",
    "home.card.what": "Qué es",
    "home.card.strengths": "Ventajas",
    "home.card.risks": "Riesgos",
    "home.card.rag.title": "Generación aumentada por recuperación (RAG)",
    "home.card.rag.what": "Busca los fragmentos que responden a la pregunta y se los da al modelo "
                          "junto con ella.",
    "home.card.rag.strengths": "Cita sus fuentes. Un documento cambiado cuenta al momento, sin "
                               "entrenar.",
    "home.card.rag.risks": "Depende de lo que encuentra. Las consultas son más largas y cada "
                           "respuesta tarda más.",
    "home.card.finetuned.title": "Ajuste fino",
    "home.card.finetuned.what": "Entrena el modelo con preguntas y respuestas sacadas de tus "
                                "documentos. Después responde de memoria.",
    "home.card.finetuned.strengths": "Consultas cortas y respuestas rápidas. Aprende tu "
                                     "vocabulario y tu tono.",
    "home.card.finetuned.risks": "Entrenar lleva tiempo. Puede inventar datos. Hay que volver a "
                                 "entrenar cuando cambian los documentos.",
    "home.card.hybrid.title": "Híbrido",
    "home.card.hybrid.what": "Un modelo con ajuste fino que además recibe los fragmentos "
                             "recuperados.",
    "home.card.hybrid.strengths": "Conoce el tema y además lee las pruebas. Suele ser el más "
                                  "preciso.",
    "home.card.hybrid.risks": "Suma los dos costes: entrenar una vez y buscar en cada respuesta.",
    "home.models_note": "Los modelos incluidos son pequeños (un modelo de lenguaje de 135 millones "
                        "de parámetros) y funcionan mejor en inglés. Sirven para comparar "
                        "estrategias, no para medir lo que lograría un modelo grande. Puedes "
                        "configurar un modelo más potente o un servicio compatible con OpenAI en "
                        "Configuración.",
    "home.open_settings": "Abrir Configuración",

    # --- estado ------------------------------------------------------------------------------------------
    "status.title": "Estado del sistema",
    "status.postgres": "PostgreSQL",
    "status.pgvector": "pgvector",
    "status.models": "Modelos",
    "status.worker": "Proceso de tareas",
    "status.jobs": "Tareas",
    "status.version": "versión {version}",
    "status.unavailable": "no disponible",
    "status.kind.embedded": "integrada",
    "status.kind.external": "externa",
    "status.models_count": "{ok} de {total} disponibles",
    "status.worker_alive": "activo",
    "status.worker_dead": "detenido",
    "status.worker_hint": "Las tareas esperan en la cola hasta que arranque el proceso.",
    "status.jobs_counts": "{queued} en cola · {running} en curso",
    "status.schema_ok": "al día ({count} migraciones)",
    "status.schema_pending": "{count} migraciones pendientes",
    "status.optional": "opcional",
    "status.model_details": "Detalle de los modelos",

    # --- errores ------------------------------------------------------------------------------------------
    "error.generic": "Algo ha fallado. Los detalles están en el registro.",
    "error.details": "Detalles: {details}",
    "error.error": "Algo ha fallado.",
    "error.config": "Hay que revisar la configuración.",
    "error.database": "La base de datos no está disponible.",
    "error.model": "Un modelo no está disponible.",
    "error.input": "Estos datos no se pueden usar.",
    "error.cancelled": "La tarea se canceló.",
    "error.not_found": "No se encontró.",

    # --- tareas -----------------------------------------------------------------------------------------------
    "job.status.queued": "En cola",
    "job.status.running": "En curso",
    "job.status.cancelling": "Cancelando",
    "job.status.succeeded": "Terminada",
    "job.status.failed": "Fallida",
    "job.status.cancelled": "Cancelada",
    "job.status.stalled": "Sin respuesta",
    "job.progress": "{step} de {total} {unit}",
    "job.progress_open": "{step} {unit} hasta ahora",
    "job.rate_second": "{rate} {unit}/s",
    "job.rate_minute": "{rate} {unit}/min",
    "job.eta": "quedan unos {duration}",
    "job.took": "duró {duration}",
    "job.attempt": "intento {attempt}",
    "job.cancel": "Cancelar",
    "job.cancel_help": "Detiene la tarea tras el paso actual. Lo terminado se conserva.",
    "job.failed": "La tarea falló: {error}",
    "job.unit_default": "pasos",
    "jobs.none": "Aún no hay tareas.",
    "jobs.col.title": "Tarea",
    "jobs.col.kind": "Tipo",
    "jobs.col.status": "Estado",
    "jobs.col.progress": "Progreso",
    "jobs.col.created": "Creada",
    "jobs.col.duration": "Duración",
    "jobs.col.message": "Mensaje",
    "unit.steps": "pasos",
    "unit.documents": "documentos",
    "unit.files": "archivos",
    "unit.chunks": "fragmentos",
    "unit.questions": "preguntas",
    "unit.examples": "ejemplos",
    "unit.batches": "lotes",
    "unit.items": "elementos",
    "duration.hours": "{h} h {m:02d} min",
    "duration.minutes": "{m} min {s:02d} s",
    "duration.seconds": "{s} s",

    # --- configuración -------------------------------------------------------------------------------------
    "settings.title": "Configuración",
    "settings.intro": "Los valores guardados tienen prioridad sobre el entorno y se aplican a las "
                      "tareas nuevas. Los campos de solo entorno se leen al arrancar.",
    "settings.where": "Dónde se guardan los datos",
    "settings.data_folder": "Carpeta de datos",
    "settings.database": "Base de datos",
    "settings.embedded": "Postgres integrado en la carpeta de datos",
    "settings.group.storage": "Almacenamiento",
    "settings.group.models": "Modelos",
    "settings.group.judge": "Modelo evaluador",
    "settings.group.limits": "Límites",
    "settings.group.cost": "Coste",
    "settings.group.interface": "Interfaz",
    "settings.group.general": "General",
    "settings.env_only": "Se define con la variable de entorno `{env}`. Reinicia el laboratorio "
                         "para cambiarla.",
    "settings.env_var": "Variable de entorno: `{env}`.",
    "settings.source.saved": "Guardado aquí.",
    "settings.source.env": "Del entorno (`{env}`).",
    "settings.secret_set": "Definido (oculto). Escribe otro valor para cambiarlo.",
    "settings.secret_unset": "Sin definir.",
    "settings.save": "Guardar",
    "settings.reset": "Restablecer",
    "settings.reset_help": "Olvida el valor guardado. Vuelve a valer el del entorno o el "
                           "predeterminado.",
    "settings.saved": "Guardado: {names}.",
    "settings.reset_done": "Vuelve al valor predeterminado: {name}.",
    "settings.nothing_changed": "No hay cambios.",
    "settings.field.data_dir": "Carpeta de datos",
    "settings.field.database_url": "URL de la base de datos",
    "settings.field.artifact_dir": "Carpeta compartida de artefactos",
    "settings.field.llm_model": "Modelo de generación",
    "settings.field.llm_api_base": "URL del servicio de generación",
    "settings.field.llm_api_key": "Clave de API de generación",
    "settings.field.embed_model_en": "Modelo de vectorización (inglés)",
    "settings.field.embed_model_multi": "Modelo de vectorización (español y mixto)",
    "settings.field.embed_api_base": "URL del servicio de vectorización",
    "settings.field.embed_api_key": "Clave de API de vectorización",
    "settings.field.dtype": "Formato numérico",
    "settings.field.device": "Dispositivo",
    "settings.field.judge_api_base": "URL del modelo evaluador",
    "settings.field.judge_model": "Modelo evaluador",
    "settings.field.judge_api_key": "Clave de API del evaluador",
    "settings.field.max_upload_mb": "Archivo más grande (MB)",
    "settings.field.max_zip_uncompressed_mb": "ZIP descomprimido más grande (MB)",
    "settings.field.max_zip_files": "Máximo de archivos en un ZIP",
    "settings.field.worker_threads": "Hilos por proceso",
    "settings.field.heartbeat_seconds": "Señal de actividad (segundos)",
    "settings.field.stalled_after_seconds": "Sin respuesta tras (segundos)",
    "settings.field.max_job_attempts": "Intentos por tarea",
    "settings.field.checkpoints_keep": "Puntos de control guardados",
    "settings.field.price_per_hour": "Precio por hora de la máquina (USD)",
    "settings.field.price_per_1k_tokens_in": "Precio por 1000 tokens de entrada (USD)",
    "settings.field.price_per_1k_tokens_out": "Precio por 1000 tokens generados (USD)",
    "settings.field.language": "Idioma predeterminado",
    "settings.field.port": "Puerto",
    "settings.help.data_dir": "Carpeta para todo lo que el laboratorio guarda en esta máquina: la "
                              "base de datos integrada, el modelo incluido convertido y los "
                              "registros. Debe admitir escritura.",
    "settings.help.database_url": "URL de un Postgres externo (15 o posterior, con la extensión "
                                  "`vector`), p. ej. postgresql://usuario:clave@host:5432/lab. "
                                  "Vacía: el Postgres integrado en la carpeta de datos.",
    "settings.help.artifact_dir": "Carpeta compartida para pesos grandes (ajustes finos "
                                  "completos). Vacía: se guardan en Postgres, que todos los "
                                  "procesos pueden leer.",
    "settings.help.llm_model": "Modelo de generación: `bundled:smollm2-135m-instruct` (viene con "
                               "el laboratorio), cualquier id de Hugging Face o carpeta local, o "
                               "`openai:<modelo>` para usar el servicio compatible con OpenAI de "
                               "abajo.",
    "settings.help.llm_api_base": "URL base de un servicio compatible con OpenAI (vLLM, Ollama, "
                                  "OpenAI), p. ej. http://localhost:11434/v1. Se usa cuando el "
                                  "modelo empieza por `openai:`.",
    "settings.help.llm_api_key": "Clave de API del servicio de generación.",
    "settings.help.embed_model_en": "Modelo de vectorización para corpus en inglés: "
                                    "`bundled:all-minilm-l6-v2`, `bundled:use-multilingual`, un id "
                                    "o carpeta de sentence-transformers, u `openai:<modelo>`.",
    "settings.help.embed_model_multi": "Modelo de vectorización para corpus en español o mixtos "
                                       "(por defecto, el Universal Sentence Encoder multilingüe "
                                       "incluido).",
    "settings.help.embed_api_base": "URL base de un servicio de vectorización compatible con "
                                    "OpenAI, para los modelos `openai:`.",
    "settings.help.embed_api_key": "Clave de API del servicio de vectorización.",
    "settings.help.dtype": "Formato numérico de los modelos locales: `auto` usa bfloat16 donde la "
                           "CPU o la GPU lo admiten y float32 en los demás casos.",
    "settings.help.device": "Dónde se ejecutan los modelos locales: `auto` elige CUDA si hay GPU; "
                            "si no, la CPU.",
    "settings.help.judge_api_base": "Servicio compatible con OpenAI del modelo evaluador para las "
                                    "métricas que juzga un modelo (fidelidad, pertinencia...). "
                                    "Vacío: solo se calculan las métricas sin conexión.",
    "settings.help.judge_model": "Nombre del modelo evaluador en ese servicio.",
    "settings.help.judge_api_key": "Clave de API del servicio evaluador.",
    "settings.help.max_upload_mb": "Tamaño máximo de un archivo subido, en MB.",
    "settings.help.max_zip_uncompressed_mb": "Tamaño total máximo de un ZIP una vez descomprimido, "
                                             "en MB (protege contra bombas ZIP).",
    "settings.help.max_zip_files": "Número máximo de archivos en un ZIP subido.",
    "settings.help.worker_threads": "Hilos de torch que puede usar un proceso de tareas. Deja un "
                                    "núcleo libre para la interfaz.",
    "settings.help.heartbeat_seconds": "Cada cuánto avisa una tarea en curso de que su proceso "
                                       "sigue vivo.",
    "settings.help.stalled_after_seconds": "Una tarea cuyo proceso no avisa durante este tiempo se "
                                           "marca sin respuesta y se reintenta (las largas siguen "
                                           "desde su último punto de control).",
    "settings.help.max_job_attempts": "Cuántas veces se reintenta una tarea sin respuesta antes "
                                      "de marcarla como fallida.",
    "settings.help.checkpoints_keep": "Puntos de control que se guardan por cada ajuste fino.",
    "settings.help.price_per_hour": "Lo que cuesta una hora de esta máquina (USD), para calcular "
                                    "el precio de las respuestas y del entrenamiento locales.",
    "settings.help.price_per_1k_tokens_in": "Precio del servicio por cada 1000 tokens de entrada "
                                            "(USD).",
    "settings.help.price_per_1k_tokens_out": "Precio del servicio por cada 1000 tokens generados "
                                             "(USD).",
    "settings.help.language": "Idioma predeterminado de la interfaz.",
    "settings.help.port": "Puerto del panel.",

    # --- fuentes (Preguntar y el explorador de fragmentos) --------------------------------------------
    "source.page": "pág. {page}",
    "source.position": "fragmento {position}",
    "source.score": "puntuación {score}",
    "source.cited": "Citada",
    "source.not_cited": "No citada",
    "sensitive.email.one": "{n} correo electrónico",
    "sensitive.email.many": "{n} correos electrónicos",
    "sensitive.iban.one": "{n} cuenta bancaria (IBAN)",
    "sensitive.iban.many": "{n} cuentas bancarias (IBAN)",
    "sensitive.card.one": "{n} número de tarjeta",
    "sensitive.card.many": "{n} números de tarjeta",
    "sensitive.nie.one": "{n} NIE",
    "sensitive.nie.many": "{n} NIE",
    "sensitive.dni.one": "{n} DNI",
    "sensitive.dni.many": "{n} DNI",
    "sensitive.ssn.one": "{n} número de la seguridad social de EE. UU.",
    "sensitive.ssn.many": "{n} números de la seguridad social de EE. UU.",
    "sensitive.phone.one": "{n} teléfono",
    "sensitive.phone.many": "{n} teléfonos",
    "sensitive.ip.one": "{n} dirección IP",
    "sensitive.ip.many": "{n} direcciones IP",

    # --- corpus ------------------------------------------------------------------------------------
    "corpora.title": "Corpus",
    "corpora.intro": "Un corpus es el conjunto de documentos del que responde el laboratorio. Sube "
                     "archivos, mira cómo se han cortado en fragmentos y elige cómo se indexan.",
    "corpora.empty": "Aún no hay ningún corpus: crea uno y sube documentos.",
    "corpora.pick": "Corpus",
    "corpora.create.title": "Nuevo corpus",
    "corpora.create.name": "Nombre",
    "corpora.create.name_placeholder": "p. ej. Manual de la empresa",
    "corpora.create.language": "Idioma de los documentos",
    "corpora.create.submit": "Crear corpus",
    "corpora.language.en": "Inglés",
    "corpora.language.es": "Español",
    "corpora.language.mixed": "Mixto (español e inglés)",
    "corpora.language_note.en": "Vectores con {model}: rápido, solo entiende inglés.",
    "corpora.language_note.es": "Vectores con {model}: multilingüe.",
    "corpora.language_note.mixed": "Vectores con {model}: una pregunta en un idioma también "
                                   "encuentra pasajes en el otro.",
    "corpora.created": "Corpus «{name}» creado. Ahora sube sus documentos.",
    "corpora.delete": "Borrar corpus",
    "corpora.delete_warning": "¿Borrar «{name}» con sus {documents} documentos, sus fragmentos y "
                              "todos sus índices? No se puede deshacer.",
    "corpora.delete_confirm": "Sí, borrarlo",
    "corpora.deleted": "Corpus «{name}» borrado.",
    "corpora.index_line": "{model} · {chunking}",
    "corpora.chunking": "{splitter} · {size} tokens · solape {overlap}",
    "corpora.metric.documents": "Documentos",
    "corpora.metric.chunks": "Fragmentos",
    "corpora.metric.chunks_help": "Trozos de texto que la búsqueda compara con una pregunta, en el "
                                  "índice en uso.",
    "corpora.metric.version": "Versión",
    "corpora.metric.version_help": "Sube con cada cambio: un documento añadido, sustituido o "
                                   "borrado. La siguiente pregunta ya ve el cambio.",
    "corpora.metric.sensitive": "Con datos sensibles",
    "corpora.metric.sensitive_none": "No se han encontrado correos, teléfonos, cuentas bancarias, "
                                     "tarjetas ni números de identidad.",
    "corpora.upload.title": "Añadir documentos",
    "corpora.upload.files": "Archivos",
    "corpora.upload.files_help": "Varios archivos a la vez, o un ZIP con ellos. El mismo archivo "
                                 "otra vez no añade nada; un archivo cambiado con el mismo nombre "
                                 "sustituye a la versión anterior.",
    "corpora.upload.formats": "Se aceptan: {formats} · hasta {mb} MB por archivo.",
    "corpora.upload.text_column": "Columna de texto (solo CSV y JSONL)",
    "corpora.upload.text_column_placeholder": "p. ej. texto",
    "corpora.upload.text_column_help": "La columna que contiene el texto de cada fila. Cada fila "
                                       "es un documento. Déjala vacía para otros archivos.",
    "corpora.upload.submit": "Subir e indexar",
    "corpora.upload.pick_files": "Elige antes al menos un archivo.",
    "corpora.upload.no_worker": "No hay ningún proceso de tareas en marcha: la subida espera en la "
                                "cola hasta que arranque uno (`./lab start` lo arranca).",
    "corpora.results.title": "Última subida: {files} archivos · {ok} indexados · {failed} con error",
    "corpora.tab.documents": "Documentos",
    "corpora.tab.chunks": "Explorador de fragmentos",
    "corpora.tab.index": "Índice",
    "corpora.documents.empty": "Aún no hay documentos: añade archivos arriba.",
    "corpora.documents.col.name": "Documento",
    "corpora.documents.col.kind": "Tipo",
    "corpora.documents.col.version": "Versión",
    "corpora.documents.col.version_help": "1 en la primera subida; +1 cada vez que un archivo "
                                          "cambiado con el mismo nombre lo sustituyó.",
    "corpora.documents.col.chunks": "Fragmentos",
    "corpora.documents.col.chars": "Caracteres",
    "corpora.documents.col.sensitive": "Datos sensibles",
    "corpora.documents.col.sensitive_help": "Identificadores personales encontrados al indexar. El "
                                            "ajuste fino puede sustituirlos por marcas como [EMAIL].",
    "corpora.documents.col.notes": "Notas",
    "corpora.documents.col.updated": "Actualizado",
    "corpora.documents.pick": "Documento",
    "corpora.documents.delete": "Borrar documento",
    "corpora.documents.delete_warning": "¿Borrar «{name}» y sus fragmentos? La siguiente pregunta "
                                        "ya no lo verá.",
    "corpora.documents.delete_confirm": "Sí, borrarlo",
    "corpora.documents.deleted": "Documento «{name}» borrado.",
    "corpora.chunks.empty": "Aún no hay fragmentos: añade documentos primero.",
    "corpora.chunks.search": "Buscar en los fragmentos",
    "corpora.chunks.search_placeholder": "Palabras del texto",
    "corpora.chunks.document": "Documento",
    "corpora.chunks.all_documents": "Todos los documentos",
    "corpora.chunks.none": "Ningún fragmento contiene estas palabras.",
    "corpora.chunks.count": "{n} fragmentos, en el orden de los documentos.",
    "corpora.chunks.count_more": "Los primeros {n} fragmentos, en el orden de los documentos.",
    "corpora.chunks.more": "Mostrar {n} más",

    # --- índice ------------------------------------------------------------------------------------
    "index.intro": "Un índice es el corpus cortado en fragmentos y convertido en vectores con un "
                   "modelo. Las preguntas van al índice en uso; uno nuevo se construye en segundo "
                   "plano mientras el actual sigue respondiendo.",
    "index.none_active": "No hay ningún índice en uso: cambia a un índice listo de abajo.",
    "index.in_use": "En uso",
    "index.status.building": "En construcción",
    "index.status.ready": "Listo",
    "index.status.failed": "Con error",
    "index.dims": "{dim} dimensiones",
    "index.created": "creado el {when}",
    "index.build_time": "construido en {s} s",
    "index.chunks": "{n} fragmentos",
    "index.activate": "Usar este índice",
    "index.activate_help": "Desde ahora las preguntas van a este índice. El actual se conserva.",
    "index.activated": "Las preguntas van ahora al índice con {model}.",
    "index.delete": "Borrar",
    "index.delete_warning": "¿Borrar este índice y sus vectores? Los documentos se conservan.",
    "index.delete_confirm": "Sí, borrarlo",
    "index.deleted": "Índice borrado.",
    "index.splitter.sentence": "Frases",
    "index.splitter.token": "Ventanas de tokens",
    "index.splitter.markdown": "Encabezados Markdown",
    "index.rebuild.title": "Construir un índice con otros ajustes",
    "index.rebuild.intro": "Prueba otro modelo de vectores u otro tamaño de fragmento. La "
                           "construcción es una tarea; cambia al índice nuevo cuando esté listo.",
    "index.rebuild.model": "Modelo de vectores",
    "index.rebuild.model_help": "El modelo que convierte cada fragmento en un vector. Los modelos "
                                "multilingües también relacionan una pregunta con pasajes en otro "
                                "idioma.",
    "index.rebuild.other": "Otro modelo (opcional)",
    "index.rebuild.other_placeholder": "id de sentence-transformers, carpeta u openai:<modelo>",
    "index.rebuild.other_help": "Sustituye a la elección de arriba: un id o carpeta de "
                                "sentence-transformers, u openai:<modelo> para el servicio de "
                                "vectores configurado.",
    "index.rebuild.splitter": "Corte",
    "index.rebuild.size": "Tamaño de fragmento (tokens)",
    "index.rebuild.overlap": "Solape (tokens)",
    "index.rebuild.submit": "Construir índice",
    "index.rebuild.queued": "Construyendo el índice nuevo. Su progreso aparece abajo; mientras, el "
                            "índice actual sigue respondiendo.",
    "index.rebuild.exists": "Ya existe un índice con estos ajustes ({status}).",
    "index.help.splitter": "Cómo se corta el texto. Frases: frases enteras hasta el tamaño del "
                           "fragmento (la mejor opción por defecto). Ventanas de tokens: trozos de "
                           "tamaño fijo, sin mirar dónde acaban las frases. Encabezados Markdown: "
                           "primero en cada encabezado y luego por frases.",
    "index.help.chunk_size": "Fragmento más largo, en tokens del modelo de vectores (unos ¾ de "
                             "palabra en inglés). Fragmentos pequeños encuentran con más precisión; "
                             "grandes llevan más contexto. Debe caber en el límite de entrada del "
                             "modelo.",
    "index.help.chunk_overlap": "Tokens que se repiten al principio del fragmento siguiente, para "
                                "que una frase cortada en el borde se encuentre entera. Debe ser "
                                "menor que el tamaño del fragmento.",

    # --- preguntar ---------------------------------------------------------------------------------
    "ask.title": "Preguntar",
    "ask.open_corpora": "Abrir Corpus",
    "ask.no_documents": "«{name}» aún no tiene documentos: sube algunos en Corpus antes.",
    "ask.question": "Pregunta",
    "ask.question_placeholder": "p. ej. ¿Cuántos días tengo para devolver un producto?",
    "ask.settings": "Ajustes de búsqueda y respuesta",
    "ask.mode": "Tipo de búsqueda",
    "ask.mode_help": "Híbrida combina las dos búsquedas y suele ser la mejor. Por significado "
                     "encuentra pasajes que dicen lo mismo con otras palabras; Por palabras "
                     "encuentra las palabras exactas.",
    "ask.mode.hybrid": "Híbrida",
    "ask.mode.vector": "Por significado (vectores)",
    "ask.mode.text": "Por palabras (texto completo)",
    "ask.k": "Pasajes que recibe el modelo",
    "ask.k_help": "Cuántos de los fragmentos que mejor encajan van en la instrucción. Más da más "
                  "contexto y respuestas más lentas.",
    "ask.max_new_tokens": "Respuesta más larga (tokens)",
    "ask.temperature": "Temperatura",
    "ask.temperature_help": "0 da siempre la misma respuesta, la más probable. Valores más altos "
                            "dan respuestas más variadas.",
    "ask.submit": "Preguntar",
    "ask.type_question": "Escribe antes una pregunta.",
    "ask.searching": "Buscando en el corpus…",
    "ask.empty_answer": "El modelo no dio ninguna respuesta.",
    "ask.cites": "Cita {sources}",
    "ask.no_citation": "La respuesta no cita ninguna fuente.",
    "ask.seconds": "{s} s",
    "ask.metric.latency": "Latencia",
    "ask.metric.tokens_in": "Tokens de entrada",
    "ask.metric.tokens_in_help": "Tokens que leyó el modelo: instrucciones, fuentes y pregunta.",
    "ask.metric.tokens_out": "Tokens de respuesta",
    "ask.metric.tokens_out_help": "Tokens que escribió el modelo.",
    "ask.made.model": "Modelo: {model}",
    "ask.made.tokens": "como mucho {n} tokens",
    "ask.sources": "Fuentes ({n})",
    "ask.no_sources": "Ningún pasaje encajó con la pregunta; el modelo respondió sin fuentes.",
    "ask.score.vector": "Puntuación: parecido de significado entre la pregunta y el pasaje "
                        "(coseno, hasta 1).",
    "ask.score.text": "Puntuación: cuánto coincide el pasaje con las palabras de la pregunta "
                      "(rango de texto completo).",
    "ask.score.hybrid": "Puntuación: las clasificaciones de las dos búsquedas combinadas (fusión "
                        "por rango recíproco); más alta es mejor.",
}
