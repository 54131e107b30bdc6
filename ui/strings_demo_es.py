"""Textos del panel «Cargar la demo» (Inicio), en español."""

STRINGS: dict[str, str] = {
    "demo.title": "Pruébalo con la demo",
    "demo.intro": "Nortera Outdoor, una empresa inventada de material de montaña, presta sus "
                  "documentos: políticas de personal, fichas de producto, atención al cliente y "
                  "devoluciones, seguridad de la información, en español e inglés. Un clic "
                  "construye las cuatro estrategias sobre ellos y las compara.",
    "demo.what.title": "Qué hará «Cargar la demo»",
    "demo.what.corpus": "Incorporar {documents} documentos ({formats}) a un corpus llamado "
                        "«Nortera demo» y buscar datos personales en ellos ({planted} documentos "
                        "los tienen a propósito).",
    "demo.what.questions": "Guardar {questions} preguntas con su respuesta de referencia: {train} "
                           "para entrenar y {held_out} reservadas para la evaluación; algunas no "
                           "tienen respuesta a propósito.",
    "demo.what.dataset": "Preparar los datos de entrenamiento con las preguntas de entrenamiento y "
                         "el texto de los documentos; los datos personales se anonimizan "
                         "(sustituidos por marcadores como [EMAIL]) y la decisión queda "
                         "registrada.",
    "demo.what.finetune": "Entrenar un adaptador LoRA sobre el modelo SmolLM2 incluido (dos "
                          "pasadas por los datos).",
    "demo.what.evaluate": "Hacer las {held_out} preguntas reservadas al modelo base, a RAG, al "
                          "modelo con ajuste fino y al híbrido, y puntuar cada respuesta.",
    "demo.what.freshness": "Preparar la prueba de actualización: cambia la política de "
                           "devoluciones y {freshness} preguntas muestran qué estrategias se "
                           "enteran. Se lanza aquí cuando la demo está lista.",
    "demo.what.time": "Medido en esta máquina de 2 núcleos mientras otros trabajos la ocupaban: "
                      "unos 14 minutos, 7 de ellos de entrenamiento. Con la máquina libre es más "
                      "rápido. Un segundo clic reutiliza lo que ya existe y tarda segundos.",
    "demo.stage.corpus": "Documentos",
    "demo.stage.questions": "Preguntas",
    "demo.stage.dataset": "Datos de entrenamiento",
    "demo.stage.finetune": "Entrenamiento",
    "demo.stage.evaluate": "Evaluación",
    "demo.stage.freshness": "Prueba de actualización",
    "demo.load": "Cargar la demo",
    "demo.reload": "Cargar la demo otra vez",
    "demo.load_help": "Se ejecuta como tarea en segundo plano: mientras, puedes usar otras "
                      "páginas. Lo que ya existe se reutiliza, así que un segundo clic es "
                      "rápido.",
    "demo.no_worker": "El proceso de tareas está detenido, así que la demo esperará en la cola. "
                      "Arranca el laboratorio con su lanzador (`./lab`), que también lo arranca.",
    "demo.ready": "La demo está lista: {documents} documentos, {questions} preguntas ({held_out} "
                  "reservadas), un adaptador LoRA entrenado en {train} y cuatro estrategias "
                  "comparadas.",
    "demo.redacted": "Se encontraron datos personales en {n} ejemplos de entrenamiento "
                     "({places}): {kinds}. La demo los anonimizó antes de entrenar; la decisión "
                     "queda registrada con el modelo.",
    "demo.kind.email": "direcciones de correo",
    "demo.kind.phone": "números de teléfono",
    "demo.kind.dni": "DNI",
    "demo.kind.nie": "NIE",
    "demo.kind.iban": "cuentas bancarias (IBAN)",
    "demo.kind.card": "números de tarjeta",
    "demo.kind.ssn": "números de la seguridad social de EE. UU.",
    "demo.kind.ip": "direcciones IP",
    "demo.metric_help": "Parecido medio de las respuestas con las de referencia, de 0 a 1 "
                        "(intervalo de confianza del 95 %: {low}–{high}; {n} preguntas).",
    "demo.metric_caption": "La respuesta coincide con la de referencia (similitud semántica), en "
                           "las preguntas reservadas; la flecha es la diferencia con el modelo "
                           "base. La página Evaluar tiene todas las métricas, los intervalos y "
                           "cada respuesta.",
    "demo.freshness.title": "Prueba de actualización: cambia la política de devoluciones",
    "demo.freshness.intro": "Una nueva versión de la política de devoluciones (en español e "
                            "inglés) da más plazo para devolver y cambia plazos de reembolso y "
                            "costes. La prueba hace {n} preguntas antes y justo después del "
                            "cambio con cada estrategia; después vuelve a entrenar el modelo con "
                            "ajuste fino y pregunta otra vez. Tarda unos minutos y deja la nueva "
                            "política en el corpus de la demo.",
    "demo.freshness.run": "Lanzar la prueba de actualización",
    "demo.freshness.run_help": "Se ejecuta como tarea en segundo plano, como la demo.",
    "demo.freshness.updated_after_ingest": "{label}: reflejó el cambio en cuanto se incorporó la "
                                           "nueva política ({duration} después del cambio).",
    "demo.freshness.updated_after_retrain": "{label}: reflejó el cambio solo tras volver a "
                                            "entrenar ({duration} después del cambio).",
    "demo.freshness.not_updated": "{label}: no reflejó el cambio.",
    "demo.freshness.already_current": "{label}: ya daba las respuestas nuevas antes del cambio.",
    "demo.freshness.under_second": "menos de un segundo",
    "demo.freshness.retrain": "Volver a entrenar el modelo con ajuste fino con las respuestas "
                              "actualizadas llevó {duration}.",
    "demo.gone": "Se borraron los resultados de la demo. Vuelve a cargarla para reconstruirlos.",
    "demo.link.evaluate": "Ver los resultados",
    "demo.link.ask": "Hacer una pregunta",
    "demo.link.finetune": "Ver el modelo",
    "demo.link.corpora": "Ver los documentos",
    "unit.answers": "respuestas",
}
