"""Textos en español de la página de ajuste fino (los une ui/i18n.py al catálogo)."""

STRINGS = {
    "finetune.title": "Ajuste fino",
    "finetune.intro": "Enseñe sus documentos al modelo: cree un conjunto de preguntas, conviértalo "
                      "en datos de entrenamiento, entrene un adaptador, algunas capas o el modelo "
                      "entero, y conserve cada modelo con el registro de cómo se hizo. El "
                      "entrenamiento se ejecuta en el proceso de tareas; puede salir de esta "
                      "página y volver.",
    "finetune.empty.no_corpus": "Aún no hay ningún corpus: cree uno en la página Corpus y añada "
                                "documentos (o cargue la demo); luego vuelva para crear preguntas "
                                "y entrenar.",
    "finetune.open_corpora": "Abrir Corpus",
    "finetune.no_documents": "{name} aún no tiene documentos: puede subir un conjunto de "
                             "preguntas, pero generar preguntas y entrenar con el texto requieren "
                             "documentos. Añádalos en la página Corpus.",
    "finetune.tab.sets": "1 · Conjuntos de preguntas",
    "finetune.tab.data": "2 · Datos de entrenamiento",
    "finetune.tab.train": "3 · Entrenar y ejecuciones",
    "finetune.tab.models": "Modelos entrenados",

    # conjuntos de preguntas
    "finetune.upload.title": "Subir un conjunto de preguntas",
    "finetune.upload.file": "Archivo CSV, JSONL o JSON",
    "finetune.upload.file_help": "Columnas: question y reference (la respuesta); opcionales "
                                 "reference_contexts, tags (p. ej. unanswerable) y part "
                                 "(train / held_out). También se leen archivos EvaluationDataset "
                                 "de Ragas (user_input, reference).",
    "finetune.upload.parsed": "{n} pregunta(s) leídas de {name}. Revíselas y edítelas abajo; "
                              "luego guarde.",
    "finetune.upload.save": "Guardar el conjunto",
    "finetune.generate.title": "Generar a partir del corpus",
    "finetune.generate.why": "Generador extractivo (sin modelo): elige frases informativas de los "
                             "documentos y envuelve cada una en una pregunta de plantilla "
                             "(«¿Qué es X?»), con la frase como respuesta. El modelo incluido es "
                             "demasiado pequeño para escribir buenas preguntas, así que esta es la "
                             "opción honesta; las preguntas son plantillas, no paráfrasis.",
    "finetune.generate.default_name": "{corpus} · extractivo",
    "finetune.generate.n": "Preguntas",
    "finetune.generate.n_help": "Como máximo estas; menos si el corpus tiene menos frases útiles.",
    "finetune.generate.submit": "Generar",
    "finetune.generate.running": "Eligiendo frases y escribiendo preguntas…",
    "finetune.set.name": "Nombre",
    "finetune.set.held_out": "Parte reservada",
    "finetune.set.held_out_help": "La proporción de preguntas que no se usa para entrenar, para "
                                  "medir lo que el modelo aprendió. El reparto usa una semilla y "
                                  "es reproducible; una versión editada conserva la parte de cada "
                                  "pregunta.",
    "finetune.set.seed": "Semilla",
    "finetune.set.seed_help": "La misma semilla da el mismo reparto.",
    "finetune.set.label": "{name} v{version} · {n} preguntas",
    "finetune.set.saved": "Guardado {name} v{version}: {n} preguntas, {held_out} reservadas.",
    "finetune.set.generated": "Generado {name}: {n} preguntas, {held_out} reservadas.",
    "finetune.set.split": "{fraction} reservado, semilla {seed}",
    "finetune.set.corpus_version": "versión del corpus {version}",
    "finetune.set.extractive_note": "Hecho por el generador extractivo: cada pregunta es una "
                                    "plantilla en torno a una frase del corpus, y su respuesta es "
                                    "esa frase.",
    "finetune.set.save_version": "Guardar los cambios como nueva versión",
    "finetune.set.save_version_help": "Los conjuntos nunca se modifican: sus cambios pasan a ser la "
                                      "versión siguiente. Las preguntas conservan su parte; las "
                                      "nuevas se reparten con la semilla.",
    "finetune.set.export.ragas": "Exportar (Ragas)",
    "finetune.set.export.ragas_help": "JSONL de registros EvaluationDataset de Ragas (user_input, "
                                      "reference, reference_contexts).",
    "finetune.set.export.csv": "Exportar (CSV)",
    "finetune.set.export.csv_help": "CSV con question, reference, reference_contexts, tags y part.",
    "finetune.set.delete": "Eliminar",
    "finetune.set.delete_warning": "¿Eliminar {name} v{version}? Los conjuntos de datos creados "
                                   "con él conservan sus ejemplos.",
    "finetune.set.delete_confirm": "Eliminar esta versión",
    "finetune.set.deleted": "Eliminado {name} v{version}.",
    "finetune.sets.title": "Conjuntos de preguntas de este corpus",
    "finetune.sets.empty": "Aún no hay conjuntos de preguntas: suba o genere uno arriba. Después, "
                           "cree datos de entrenamiento en la pestaña Datos de entrenamiento.",
    "finetune.sets.pick": "Conjunto de preguntas",
    "finetune.source.upload": "Archivo subido",
    "finetune.source.ragas": "Archivo de Ragas",
    "finetune.source.extractive": "Generador extractivo (sin modelo)",
    "finetune.source.llm": "Escrito por un modelo",
    "finetune.source.edit": "Editado",
    "finetune.col.name": "Nombre",
    "finetune.col.version": "Versión",
    "finetune.col.source": "Origen",
    "finetune.col.questions": "Preguntas",
    "finetune.col.train": "Entrenamiento",
    "finetune.col.held_out": "Reservadas",
    "finetune.col.held_out_help": "Nunca se entrena con ellas; miden lo que el modelo aprendió.",
    "finetune.col.created": "Creado",
    "finetune.col.question": "Pregunta",
    "finetune.col.reference": "Respuesta de referencia",
    "finetune.col.contexts": "Contextos de referencia",
    "finetune.col.contexts_help": "Pasajes que respaldan la respuesta, separados por ||.",
    "finetune.col.tags": "Etiquetas",
    "finetune.col.tags_help": "Separadas por ; (p. ej. unanswerable).",
    "finetune.col.part": "Parte",
    "finetune.col.part_help": "train o held_out; déjelo vacío para que decida el reparto.",
    "finetune.col.system": "Sistema",
    "finetune.col.user": "Usuario (pregunta)",
    "finetune.col.assistant": "Asistente (respuesta)",
    "finetune.col.text": "Texto",

    # datos de entrenamiento
    "finetune.build.title": "Crear datos de entrenamiento",
    "finetune.build.builder": "Tipo de datos",
    "finetune.builder.qa_pairs": "Pares pregunta-respuesta",
    "finetune.builder.qa_pairs.what": "Un ejemplo de chat por pregunta de la parte de "
                                      "entrenamiento: el usuario pregunta y el asistente da la "
                                      "respuesta de referencia.",
    "finetune.builder.continued_pretraining": "Preentrenamiento continuado",
    "finetune.builder.continued_pretraining.what": "Los fragmentos del corpus como texto, "
                                                   "aprendiendo cada palabra (como se entrenó el "
                                                   "modelo en origen).",
    "finetune.builder.paraphrase": "Pares parafraseados",
    "finetune.builder.paraphrase.what": "Varias reformulaciones de cada par pregunta-respuesta.",
    "finetune.builder.raft": "RAFT (pregunta + pasajes)",
    "finetune.builder.raft.what": "La pregunta con su pasaje correcto y distractores, y la "
                                  "respuesta: para la estrategia híbrida.",
    "finetune.build.set": "De la parte de entrenamiento de",
    "finetune.build.set_label": "{name} v{version} · {n} preguntas de entrenamiento",
    "finetune.build.set_help": "Solo se usa la parte de entrenamiento; las preguntas reservadas "
                               "nunca llegan al entrenamiento.",
    "finetune.build.unanswerable": "Incluir preguntas sin respuesta",
    "finetune.build.unanswerable_help": "Enseña al modelo a decir que los documentos no lo dicen.",
    "finetune.build.name": "Nombre del conjunto de datos",
    "finetune.build.name_placeholder": "opcional",
    "finetune.build.submit": "Crear conjunto de datos",
    "finetune.build.running": "Creando los ejemplos…",
    "finetune.build.no_sets": "Este tipo de datos lee un conjunto de preguntas y el corpus aún no "
                              "tiene ninguno: cree uno en la pestaña Conjuntos de preguntas.",
    "finetune.dataset.label": "{name} · {builder} · {n} ejemplos",
    "finetune.dataset.built": "Creado {name}: {n} ejemplos.",
    "finetune.dataset.examples": "{n} ejemplos",
    "finetune.dataset.from_set": "de {set}",
    "finetune.dataset.skipped": "{n} omitidos (sin respuesta o demasiado cortos)",
    "finetune.dataset.text_example": "Texto (se aprende cada palabra):",
    "finetune.dataset.more": "Se muestran los primeros {shown} de {n} ejemplos.",
    "finetune.dataset.delete": "Eliminar",
    "finetune.dataset.delete_warning": "¿Eliminar el conjunto de datos {name}? Los modelos "
                                       "entrenados con él conservan un resumen.",
    "finetune.dataset.delete_confirm": "Eliminar el conjunto de datos",
    "finetune.dataset.deleted": "Eliminado el conjunto de datos {name}.",
    "finetune.datasets.title": "Conjuntos de datos de este corpus",
    "finetune.datasets.empty": "Aún no hay datos de entrenamiento: cree un conjunto de datos "
                               "arriba. Después, entrene con él en la pestaña Entrenar.",
    "finetune.datasets.pick": "Conjunto de datos",
    "finetune.checks.running": "Comprobando frente a las preguntas reservadas…",
    "finetune.checks.leaks": "{n} pregunta(s) reservadas aparecen en estos datos: se rechaza "
                             "entrenar con ellos (la evaluación quedaría inflada). Quítelas y "
                             "vuelva a crearlos.",
    "finetune.checks.near": "{n} pregunta(s) reservadas son casi idénticas a preguntas de "
                            "entrenamiento (similitud de al menos 0,95). Se permite entrenar; "
                            "revíselas.",
    "finetune.checks.clean": "Ninguna pregunta reservada aparece en estos datos (ni igual ni casi "
                             "igual).",
    "finetune.leak.line": "- «{question}» ({set} v{version}, ejemplo {example}: {how})",

    # el formulario
    "finetune.train.no_dataset": "Aún no hay datos de entrenamiento para este corpus: cree un "
                                 "conjunto de datos en la pestaña Datos de entrenamiento.",
    "finetune.train.dataset": "Entrenar con",
    "finetune.train.run_name": "Nombre del modelo",
    "finetune.train.run_name_placeholder": "{method} · {dataset}",
    "finetune.train.base_model": "Modelo base: {model}",
    "finetune.train.estimate": "Actualizar la estimación",
    "finetune.train.launch": "Lanzar el entrenamiento",
    "finetune.train.preview": "Vista previa de los datos",
    "finetune.method.adapter": "Adaptador (LoRA)",
    "finetune.method.partial": "Parcial",
    "finetune.method.full": "Completo",
    "finetune.method.adapter.what": "Añade pequeñas matrices nuevas junto al modelo y solo entrena "
                                    "esas; el modelo no cambia. Lo más ligero y rápido.",
    "finetune.method.partial.what": "Entrena solo las capas superiores del modelo; el resto queda "
                                    "congelado. Un punto intermedio.",
    "finetune.method.full.what": "Se entrenan todos los pesos del modelo. Aprende más, necesita "
                                 "más memoria y olvida más de lo que sabía.",
    "finetune.group.method": "Qué se entrena",
    "finetune.group.training": "Entrenamiento",
    "finetune.group.monitoring": "Progreso, validación y puntos de control",
    "finetune.field.method": "Método",
    "finetune.field.top_n_layers": "Capas superiores que se entrenan",
    "finetune.field.train_head": "Entrenar también la capa de salida",
    "finetune.field.lora_r": "Rango de LoRA (r)",
    "finetune.field.lora_alpha": "Alfa de LoRA",
    "finetune.field.lora_dropout": "Dropout de LoRA",
    "finetune.field.target_modules": "Capas que reciben LoRA",
    "finetune.field.learning_rate": "Tasa de aprendizaje (0 = la habitual)",
    "finetune.field.epochs": "Épocas",
    "finetune.field.batch_size": "Tamaño del lote",
    "finetune.field.grad_accum": "Acumulación de gradientes",
    "finetune.field.max_length": "Ejemplo más largo (tokens)",
    "finetune.field.warmup_ratio": "Proporción de calentamiento",
    "finetune.field.weight_decay": "Decaimiento de pesos",
    "finetune.field.max_grad_norm": "Recorte de gradientes",
    "finetune.field.max_steps": "Parar tras pasos (0 = todos)",
    "finetune.field.val_fraction": "Proporción de validación",
    "finetune.field.eval_every": "Validar cada (pasos)",
    "finetune.field.log_every": "Informar cada (pasos)",
    "finetune.field.checkpoint_every": "Punto de control cada (pasos)",
    "finetune.field.precision": "Precisión numérica",
    "finetune.field.seed": "Semilla",
    "finetune.field.gradient_checkpointing": "Recálculo de activaciones (gradient checkpointing)",
    "finetune.help.method": "Qué se entrena. full: todos los pesos del modelo. partial: solo las "
                            "capas superiores del decodificador (y, si se quiere, la capa de "
                            "salida); el resto queda congelado. adapter: pequeñas matrices nuevas "
                            "de rango bajo (LoRA) junto a un modelo congelado; los pesos base "
                            "nunca cambian.",
    "finetune.help.top_n_layers": "partial: cuántas capas superiores del decodificador se entrenan "
                                  "(con la capa de normalización final). SmolLM2-135M tiene 30.",
    "finetune.help.train_head": "partial: entrenar también la capa de salida. SmolLM2 la comparte "
                                "con los embeddings de entrada (una sola matriz de 28M "
                                "parámetros): entrenarla cambia también los embeddings de entrada.",
    "finetune.help.lora_r": "adapter: rango de las matrices LoRA. Más alto aprende más y entrena "
                            "más parámetros.",
    "finetune.help.lora_alpha": "adapter: escala de LoRA (la actualización se multiplica por "
                                "alfa / r). Suele ser 2 × r.",
    "finetune.help.lora_dropout": "adapter: dropout en la entrada de LoRA durante el "
                                  "entrenamiento. Desactivado por defecto: en una CPU hacía cada "
                                  "paso un 20% más lento (una copia de la entrada de cada capa) y "
                                  "las ejecuciones cortas de pocas épocas apenas sobreajustan; "
                                  "prueba 0,05-0,1 en ejecuciones largas con pocos datos.",
    "finetune.help.gradient_checkpointing": "Guarda solo la entrada de cada capa en la pasada "
                                            "hacia delante y recalcula el resto en la pasada hacia "
                                            "atrás: cerca de la mitad de memoria por una quinta "
                                            "parte más de tiempo (LoRA, lotes de 4 x 170 tokens: "
                                            "1,1 GB en lugar de 1,9 GB, 2,5 s en lugar de 1,9 s de "
                                            "CPU por paso).",
    "finetune.help.target_modules": "adapter: las capas lineales que reciben matrices LoRA, por "
                                    "nombre (atención: q_proj, k_proj, v_proj, o_proj; MLP: "
                                    "gate_proj, up_proj, down_proj).",
    "finetune.help.learning_rate": "Tamaño del paso del optimizador (AdamW). 0: la tasa habitual "
                                   "del método (full 2e-5, partial 1e-4, adapter 5e-4).",
    "finetune.help.epochs": "Pasadas sobre los ejemplos de entrenamiento.",
    "finetune.help.batch_size": "Ejemplos por paso. Más pequeño usa menos memoria.",
    "finetune.help.grad_accum": "Pasos cuyos gradientes se suman antes de cambiar los pesos (un "
                                "lote efectivo de tamaño del lote × este valor, con la memoria de "
                                "un lote).",
    "finetune.help.max_length": "Ejemplo más largo, en tokens; los más largos se cortan. La "
                                "memoria y el tiempo crecen con él.",
    "finetune.help.warmup_ratio": "Proporción de los pasos en la que la tasa de aprendizaje sube "
                                  "desde 0; después baja linealmente hasta 0.",
    "finetune.help.weight_decay": "Decaimiento de pesos de AdamW.",
    "finetune.help.max_grad_norm": "Los gradientes se recortan a esta norma (0: sin recorte).",
    "finetune.help.max_steps": "Parar tras este número de pasos del optimizador (0: todas las "
                               "épocas).",
    "finetune.help.val_fraction": "Proporción de los ejemplos de entrenamiento que se aparta para "
                                  "medir la pérdida de validación (al menos uno si hay 5 o más).",
    "finetune.help.eval_every": "Medir la pérdida de validación cada este número de pasos (0: solo "
                                "al final).",
    "finetune.help.log_every": "Informar de la pérdida, la tasa de aprendizaje y la velocidad cada "
                               "este número de pasos.",
    "finetune.help.checkpoint_every": "Guardar un punto de control cada este número de pasos (0: "
                                      "solo al parar), para que una ejecución cuyo proceso muere "
                                      "continúe desde ahí.",
    "finetune.help.precision": "Formato numérico. auto: bfloat16 donde el hardware lo calcula de "
                               "forma nativa (adapter: pesos base en bf16; full y partial: pesos "
                               "fp32 con aritmética bf16); si no, fp32.",
    "finetune.help.seed": "Semilla aleatoria (orden de los datos, reparto de validación, "
                          "inicialización de LoRA).",
    "finetune.guard.found": "Datos personales o sensibles en {examples} ejemplo(s) de "
                            "entrenamiento: {kinds}. Un modelo no puede olvidar aquello con lo "
                            "que se entrenó. Elija abajo qué hacer; la decisión queda registrada "
                            "con el modelo.",
    "finetune.guard.more": "y {n} más",
    "finetune.guard.choice": "Datos sensibles",
    "finetune.guard.redact": "Ocultarlos",
    "finetune.guard.redact.what": "Cada dato se sustituye por una marca como [EMAIL] antes de "
                                  "entrenar.",
    "finetune.guard.acknowledge": "Entrenar con ellos tal cual",
    "finetune.guard.acknowledge.what": "Acepto el riesgo de que el modelo los repita.",
    "finetune.guard.refuse": "No entrenar (cancelar)",
    "finetune.guard.refuse.what": "No se entrena con estos datos.",
    "finetune.launch.leaks": "Este conjunto de datos contiene preguntas reservadas: se rechaza "
                             "entrenar con él. Vea la lista arriba.",
    "finetune.launch.guard_refused": "No se lanzó nada: elija ocultar los datos sensibles o "
                                     "aceptar el riesgo.",
    "finetune.launch.queued": "Entrenamiento en cola: {method} con {dataset}. Sígalo abajo.",
    "finetune.estimate.title": "Antes de lanzar: la estimación",
    "finetune.estimate.running": "Estimando…",
    "finetune.estimate.trainable": "Entrenables",
    "finetune.estimate.trainable_help": "Parámetros que se entrenan: el {share} % de los {total} del modelo.",
    "finetune.estimate.memory": "Memoria",
    "finetune.estimate.memory_help": "Memoria máxima de la ejecución: pesos, gradientes y estado "
                                     "del optimizador de lo que se entrena, y las activaciones de "
                                     "un lote.",
    "finetune.estimate.epoch": "Por época",
    "finetune.estimate.total": "En total",
    "finetune.estimate.steps": "{steps} pasos ({per_epoch} por época) sobre {examples} ejemplos, "
                               "{tokens} tokens por época.",
    "finetune.estimate.what_trains": "Lo que realmente se entrena: {summary}",
    "finetune.estimate.tied": "SmolLM2 comparte su capa de salida con los embeddings de entrada "
                              "(una sola matriz): entrenar la capa de salida cambia también los "
                              "embeddings de entrada.",
    "finetune.estimate.basis.formula": "Estimado con una fórmula a partir de los tokens reales de "
                                       "estos datos y velocidades medidas en una máquina de "
                                       "referencia de 2 núcleos; en otro equipo es orientativo.",
    "finetune.estimate.basis.measured": "Medido cronometrando pasos reales de entrenamiento en "
                                        "esta máquina.",

    # ejecuciones
    "finetune.runs.title": "Ejecuciones",
    "finetune.runs.none": "Aún no hay ninguna ejecución: complete el formulario de arriba y lance "
                          "una.",
    "finetune.runs.no_worker": "No hay ningún proceso de tareas en marcha: las ejecuciones en cola "
                               "esperan hasta que arranque uno (./lab worker, o reinicie el "
                               "laboratorio).",
    "finetune.runs.pick": "Ejecución",
    "finetune.runs.col.run": "Ejecución",
    "finetune.runs.col.loss": "Pérdida final",
    "finetune.runs.col.method": "Método",
    "finetune.runs.resume": "Reanudar",
    "finetune.runs.resume_help": "Vuelve a poner la ejecución en cola: continúa desde su último "
                                 "punto de control.",
    "finetune.runs.lineage": "Cómo se hizo {name}",
    "finetune.curves.title": "Pérdida",
    "finetune.curves.train": "Pérdida de entrenamiento",
    "finetune.curves.validation": "Pérdida de validación",
    "finetune.curves.step": "Paso",
    "finetune.curves.loss": "Pérdida",
    "finetune.curves.none": "Las curvas de pérdida aparecen cuando el entrenamiento informa de sus "
                            "primeros pasos.",

    # el registro
    "finetune.models.empty": "Aún no hay modelos entrenados: lance una ejecución en la pestaña "
                             "Entrenar. Cada modelo se guarda aquí con cómo se hizo.",
    "finetune.models.intro": "{n} modelo(s), del más reciente al más antiguo. Cada uno guarda el "
                             "registro de cómo se hizo.",
    "finetune.model.status.ready": "Listo",
    "finetune.model.status.training": "Entrenando",
    "finetune.model.status.failed": "Falló",
    "finetune.model.status.cancelled": "Cancelado",
    "finetune.model.download": "Descargar ZIP",
    "finetune.model.format.peft-adapter": "Una carpeta de adaptador PEFT estándar: cárguela con "
                                          "PeftModel.from_pretrained sobre el modelo base.",
    "finetune.model.format.safetensors-full": "Una carpeta completa de modelo de transformers.",
    "finetune.model.format.safetensors-partial": "Solo los pesos entrenados; el laboratorio los "
                                                 "aplica sobre el modelo base.",
    "finetune.model.format.other": "La carpeta del modelo, con su registro de origen.",
    "finetune.model.delete": "Eliminar",
    "finetune.model.delete_warning": "¿Eliminar {name} y sus pesos? No se puede deshacer.",
    "finetune.model.delete_confirm": "Eliminar el modelo",
    "finetune.model.deleted": "Eliminado el modelo {name}.",
    "finetune.lineage.base": "Modelo base",
    "finetune.lineage.method": "Método",
    "finetune.lineage.hyperparameters": "Hiperparámetros",
    "finetune.lineage.dataset": "Conjunto de datos",
    "finetune.lineage.dataset_value": "{name} ({builder}, {n} ejemplos)",
    "finetune.lineage.corpus": "Corpus",
    "finetune.lineage.corpus_value": "{name}, versión {version}",
    "finetune.lineage.corpus_gone": "(eliminado)",
    "finetune.lineage.trainable": "Parámetros entrenados",
    "finetune.lineage.trainable_value": "{n} de {total} ({share} %)",
    "finetune.lineage.steps": "Pasos",
    "finetune.lineage.duration": "Tiempo de entrenamiento",
    "finetune.lineage.final_loss": "Pérdida final de entrenamiento",
    "finetune.lineage.final_val_loss": "Pérdida final de validación",
    "finetune.lineage.guard": "Datos sensibles",
    "finetune.lineage.guard.clean": "no se encontraron",
    "finetune.lineage.guard.redact": "ocultados",
    "finetune.lineage.guard.acknowledge": "entrenado con ellos, riesgo aceptado",
    "finetune.lineage.guard.refuse": "rechazado",
    "finetune.lineage.hardware": "Entrenado en",
}
