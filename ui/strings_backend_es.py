"""Backend messages (job progress, cancellation, retries; upload problems) in Spanish; keys and fields as in
``backend/messages.py``."""

STRINGS: dict[str, str] = {
    "backend.text.joined": "{first} {second}",
    "backend.job.waiting": "Esperando a un proceso de tareas",
    "backend.job.starting": "Empezando",
    "backend.job.resuming": "Reanudando",
    "backend.job.cancelling": "Cancelando",
    "backend.job.cancelled": "Cancelada.",
    "backend.job.cancelled_before_start": "Cancelada antes de empezar.",
    "backend.job.cancelled_worker_stopped": "Cancelada (su proceso de tareas se detuvo).",
    "backend.job.queued_again": "En cola de nuevo (intento {attempt})",
    "backend.job.queue_place_lost": "Perdió su sitio en la cola; vuelve a estar en cola.",
    "backend.job.worker_unresponsive": "El proceso que ejecutaba esta tarea ({worker}) dejó "
                                      "de responder; la tarea sigue en el próximo proceso "
                                      "libre (intento {attempt} de {attempts}).",
    "backend.job.worker_stopped": "Se detuvo el proceso que ejecutaba esta tarea; la tarea sigue "
                                 "en el próximo proceso libre (intento {attempt}).",
    "backend.ingest.reading": "leyendo el archivo {number}/{files}",
    "backend.ingest.to_ingest": "{files} archivo(s) por ingerir",
    "backend.ingest.progress": "{done}/{files} archivos · {chunks} fragmentos · {rate} embeddings/s",
    "backend.ingest.added": "nuevos: {n}",
    "backend.ingest.replaced": "reemplazados: {n}",
    "backend.ingest.unchanged": "sin cambios: {n}",
    "backend.ingest.chunks_one": "({n} fragmento)",
    "backend.ingest.chunks": "({n} fragmentos)",
    "backend.index.to_index": "{documents} documentos por indexar",
    "backend.index.progress": "{done}/{documents} documentos · {chunks} fragmentos",
    "backend.finetune.step": "Paso {step} de {steps}, época {epoch} de {epochs}",
    "backend.finetune.validated": "Pérdida de validación medida",
    "backend.finetune.saving": "Guardando el modelo",
    "backend.evaluate.answered": "{done}/{total} respondidas",
    "backend.evaluate.answered_by": "{done}/{total} respondidas ({strategy})",
    "backend.evaluate.scoring_count": "Puntuando {answers} respuestas",
    "backend.evaluate.scoring": "Puntuando",
    "backend.evaluate.judging_count": "Juzgando {answers} respuestas",
    "backend.evaluate.judging": "Juzgando",
    "backend.freshness.before": "Preguntado antes del cambio ({strategy})",
    "backend.freshness.ingested": "Ingerido en {seconds} s",
    "backend.freshness.after_ingestion": "Preguntado tras la ingesta ({strategy})",
    "backend.freshness.retraining": "Reentrenando: {detail}",
    "backend.freshness.after_retrain": "Preguntado tras el reentrenamiento ({strategy})",
    "backend.demo.stage": "{number}/{stages} {stage}",
    "backend.demo.stage_detail": "{number}/{stages} {stage} · {detail}",
    "backend.demo.stages.corpus": "Ingiriendo los documentos",
    "backend.demo.stages.questions": "Guardando el conjunto de preguntas",
    "backend.demo.stages.dataset": "Preparando los datos de entrenamiento",
    "backend.demo.stages.finetune": "Entrenando el adaptador LoRA",
    "backend.demo.stages.evaluate": "Evaluando las cuatro estrategias",
    "backend.demo.stages.freshness": "Preparando la prueba de actualización",
    "backend.title.ingest": "Ingerir {files} archivo(s) en {corpus}",
    "backend.title.build_index": "Construir el índice ({model}, {chunking})",
    "backend.title.evaluate": "Evaluar {run}",
    "backend.title.finetune": "Ajuste fino ({method}) con {dataset}",
    "backend.title.demo": "Cargar la demo de Nortera",
    "backend.method.full": "completo",
    "backend.method.partial": "parcial",
    "backend.method.adapter": "adaptador",
    "backend.upload.empty": "El archivo está vacío (0 bytes). Comprueba que es el archivo que "
                            "querías subir.",
    "backend.upload.empty_in_zip": "El archivo está vacío (0 bytes). Comprueba que es el archivo "
                                   "que querías.",
    "backend.upload.too_large": "El archivo ocupa {size}; lo máximo que se puede subir es {limit}. "
                                "Divídelo en archivos más pequeños.",
    "backend.upload.unsupported": "Los archivos de tipo {ext} no se admiten. Tipos admitidos: "
                                  "{supported}.",
    "backend.upload.no_extension": "El archivo no tiene extensión, así que no se sabe de qué tipo "
                                   "es. Tipos admitidos: {supported}.",
    "backend.upload.save_as_docx": "Ábrelo en Word o LibreOffice y guárdalo como .docx.",
    "backend.upload.save_as_docx_or_pdf": "Guárdalo como .docx o PDF.",
    "backend.upload.export_pdf": "Guárdalo o expórtalo como PDF.",
    "backend.upload.export_csv": "Exporta la hoja como CSV (UTF-8).",
    "backend.upload.save_as_jsonl": "Guárdalo como JSON Lines (.jsonl): un objeto JSON por línea.",
    "backend.upload.repack_zip": "Vuelve a empaquetar los archivos como .zip.",
    "backend.upload.unexpected": "Algo falló al leer este archivo; los detalles están en el "
                                 "registro del laboratorio. Prueba a guardarlo en otro formato "
                                 "admitido.",
    "backend.upload.nested": "El {format} tiene demasiados niveles anidados para leerlo. Guárdalo "
                             "de nuevo de forma más sencilla.",
    "backend.upload.damaged": "El archivo no se pudo leer como {format}: parece dañado o no es "
                              "realmente de ese tipo. Ábrelo y guárdalo de nuevo, y sube la copia "
                              "nueva.",
    "backend.upload.zip_no_files": "El ZIP no contiene archivos.",
    "backend.upload.zip_invalid": "El archivo no es un ZIP válido (puede estar dañado o "
                                  "incompleto).",
    "backend.upload.zip_invalid_hint": "Crea el ZIP de nuevo y súbelo, o sube los archivos uno a "
                                       "uno.",
    "backend.upload.pdf_damaged": "El archivo no se pudo leer como PDF: está dañado o no es "
                                  "realmente un PDF.",
    "backend.upload.pdf_resave": "Ábrelo en un visor de PDF y guárdalo o imprímelo en un PDF "
                                 "nuevo, y sube esa copia.",
    "backend.upload.pdf_encrypted": "El PDF está cifrado: sube una copia sin cifrar.",
    "backend.upload.pdf_encrypted_hint": "Ábrelo con su contraseña y guárdalo o imprímelo en un "
                                         "PDF nuevo sin ella.",
    "backend.upload.pdf_no_pages": "El PDF no tiene páginas.",
    "backend.upload.pdf_scanned": "El PDF no tiene capa de texto: sus páginas parecen imágenes "
                                  "escaneadas, y el laboratorio no hace OCR (reconocimiento de "
                                  "texto).",
    "backend.upload.pdf_scanned_hint": "Pásalo por un programa de OCR (p. ej. OCRmyPDF o el del "
                                       "escáner) y sube el resultado, o sube el documento "
                                       "original del que salió.",
    "backend.upload.docx_old": "Es un archivo de Word antiguo (.doc) o un documento protegido con "
                               "contraseña, que el laboratorio no puede leer.",
    "backend.upload.docx_old_hint": "Ábrelo en Word o LibreOffice y guárdalo como .docx sin "
                                    "contraseña.",
    "backend.upload.docx_damaged": "El archivo no se pudo leer como documento de Word (.docx): "
                                   "está dañado o no es realmente un .docx.",
    "backend.upload.docx_resave": "Ábrelo en Word o LibreOffice, guárdalo de nuevo como .docx y "
                                  "sube esa copia.",
    "backend.upload.no_text": "El archivo no tiene texto que indexar.",
    "backend.upload.no_text_docx": "El documento de Word no tiene texto que indexar.",
    "backend.upload.no_text_blank": "El archivo solo tiene espacios en blanco: no hay texto que "
                                    "indexar.",
    "backend.upload.no_text_markdown": "El archivo Markdown no tiene texto que indexar.",
    "backend.upload.no_text_html": "La página web no tiene texto visible que indexar.",
    "backend.upload.check_file": "Comprueba que es el archivo que querías subir.",
    "backend.upload.encoding": "No se reconoció la codificación de texto de este archivo (puede "
                               "que no sea un archivo de texto).",
    "backend.upload.encoding_hint": "Guárdalo como texto UTF-8 (la mayoría de editores lo ofrecen "
                                    "en «Guardar como» → Codificación) y súbelo de nuevo.",
    "backend.format.docx": "documento de Word (.docx)",
    "backend.format.txt": "texto plano",
    "backend.format.markdown": "Markdown",
    "backend.format.csv": "tabla CSV",
    "backend.format.jsonl": "JSON Lines",
    "backend.format.html": "página web (HTML)",
    "backend.format.pdf": "PDF",
}
