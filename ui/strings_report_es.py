"""Textos en español de la página Informe (las palabras del propio informe están en
backend/report/phrases.py). Mismas claves que ``ui/strings_report_en.py``."""

STRINGS: dict[str, str] = {
    "report.title": "Informe",
    "report.intro": "Un informe de decisión de una página: qué estrategia usar con estos documentos, "
                    "por qué y a qué coste, a partir de los resultados medidos y de tus prioridades. "
                    "Descárgalo para compartirlo.",
    "report.empty": "Aún no hay resultados de evaluación: lanza una evaluación o carga la "
                    "demostración, y el informe se redacta solo a partir de los resultados medidos.",
    "report.empty.demo": "Cargar la demostración (Inicio)",
    "report.empty.evaluate": "Lanzar una evaluación",
    "report.run": "Evaluación del informe",
    "report.run_help": "El informe se redacta con las puntuaciones guardadas de esta evaluación; la "
                       "más reciente primero.",
    "report.unfinished": "Esta evaluación sigue en marcha: el informe muestra las respuestas "
                         "puntuadas hasta ahora y cambiará.",
    "report.priorities": "Tus prioridades",
    "report.priorities_help": "Cuánto te importa cada una, de 0 (nada) a 5 (mucho). La calidad de las "
                              "respuestas decide cuando una estrategia es claramente mejor; si no hay "
                              "diferencia detectable, deciden las demás.",
    "report.priority.quality": "Calidad de las respuestas",
    "report.priority.quality_help": "Cuánto se parecen las respuestas a las de referencia. Con 0, "
                                    "la calidad no cuenta y eligen las demás prioridades.",
    "report.priority.cost": "Coste",
    "report.priority.cost_help": "Coste de uso por cada 1000 preguntas y coste único de indexar o "
                                 "entrenar.",
    "report.priority.updates": "Frecuencia de actualización",
    "report.priority.updates_help": "Cada cuánto cambian tus documentos: la recuperación refleja un "
                                    "cambio en cuanto se reingiere el documento; un modelo con "
                                    "ajuste fino necesita reentrenarse.",
    "report.priority.privacy": "Privacidad",
    "report.priority.privacy_help": "Si tus documentos pueden aprenderse en los pesos de un modelo "
                                    "(que no puede olvidarlos) o deben quedarse en una base de datos "
                                    "de la que se pueden borrar.",
    "report.priority.latency": "Latencia",
    "report.priority.latency_help": "Lo rápido que llega una respuesta (percentil 95).",
    "report.download.html": "Descargar HTML",
    "report.download.html_help": "Un único archivo con el gráfico: se abre sin conexión en cualquier "
                                 "navegador y se imprime en una página.",
    "report.download.md": "Descargar Markdown",
    "report.download.md_help": "El mismo informe en texto Markdown, para una wiki o una incidencia.",
}
