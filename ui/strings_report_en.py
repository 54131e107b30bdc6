"""English strings of the Report page (the memo's own words are in backend/report/phrases.py).
Same keys as ``ui/strings_report_es.py``."""

STRINGS: dict[str, str] = {
    "report.title": "Report",
    "report.intro": "A one-page decision memo: which strategy to use on these documents, why, and at "
                    "what cost, from the measured results and your priorities. Download it to share.",
    "report.empty": "No evaluation results yet: run an evaluation or load the demo, and the report "
                    "writes itself from the measured results.",
    "report.empty.demo": "Load the demo (Home)",
    "report.empty.evaluate": "Run an evaluation",
    "report.run": "Evaluation to report on",
    "report.run_help": "The memo is written from this run's stored scores; newest first.",
    "report.unfinished": "This evaluation is still running: the report shows the answers scored so "
                         "far and will change.",
    "report.priorities": "Your priorities",
    "report.priorities_help": "How much each one matters to you, from 0 (not at all) to 5 (most). "
                              "Answer quality decides when one strategy is measurably better; when "
                              "there is no detectable difference, the others decide.",
    "report.priority.quality": "Answer quality",
    "report.priority.quality_help": "How close the answers are to the reference answers. At 0, "
                                    "quality is ignored and the other priorities choose.",
    "report.priority.cost": "Cost",
    "report.priority.cost_help": "Running cost per 1,000 questions and the one-off cost of "
                                 "indexing or training.",
    "report.priority.updates": "Update frequency",
    "report.priority.updates_help": "How often your documents change: retrieval reflects a change "
                                    "once the document is re-ingested, a fine-tuned model needs a "
                                    "retrain.",
    "report.priority.privacy": "Privacy",
    "report.priority.privacy_help": "Whether your documents may be learned into model weights (which "
                                    "cannot forget them) or must stay in a database you can delete "
                                    "from.",
    "report.priority.latency": "Latency",
    "report.priority.latency_help": "How fast an answer arrives (95th percentile).",
    "report.download.html": "Download HTML",
    "report.download.html_help": "One self-contained file with the chart: opens offline in any "
                                 "browser and prints as one page.",
    "report.download.md": "Download Markdown",
    "report.download.md_help": "The same memo as Markdown text, for a wiki or a ticket.",
}
