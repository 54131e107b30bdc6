"""The built-in demo: a fictional company's documents, questions and a freshness scenario."""

from backend.demo.build import (
    DEMO_CORPUS_NAME,
    DEMO_LANGUAGE,
    DemoFile,
    demo_files,
    demo_questions,
    demo_update_files,
    document_info,
    freshness_questions,
    planted_personal_data,
    source_text,
)

__all__ = [
    "DEMO_CORPUS_NAME",
    "DEMO_LANGUAGE",
    "DemoFile",
    "demo_files",
    "demo_questions",
    "demo_update_files",
    "document_info",
    "freshness_questions",
    "planted_personal_data",
    "source_text",
]
