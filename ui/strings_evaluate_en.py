"""English strings of the Evaluate page, and the names and explanations of the metrics
(``metric.<key>`` is ``METRICS[key].label_key``; ``.plain`` says it in plain words, ``.help`` how it
is computed and its range). Same keys as ``ui/strings_evaluate_es.py``."""

STRINGS: dict[str, str] = {
    # --- page ------------------------------------------------------------------------------------
    "evaluate.title": "Evaluate",
    "evaluate.intro": "Which strategy answers best, by how much, and at what cost? Every strategy "
                      "answers the same held-out questions and gets the same scores, each shown "
                      "with its 95% confidence interval and sample size.",
    "evaluate.empty": "No evaluation yet: build a question set on Fine-tune, then launch a run here "
                      "(or load the demo).",
    "evaluate.tab.overview": "Overview",
    "evaluate.tab.tradeoffs": "Trade-offs",
    "evaluate.tab.questions": "Per question",
    "evaluate.tab.h2h": "Head to head",
    "evaluate.tab.unanswerable": "Unanswerable",
    "evaluate.tab.compare": "Compare runs",
    "evaluate.n": "n = {n}",
    "evaluate.n_paired": "{n} questions compared",

    # --- launching -------------------------------------------------------------------------------
    "evaluate.launch.title": "New evaluation run",
    "evaluate.launch.set": "Question set",
    "evaluate.launch.set_option": "{name} v{version} · {corpus} · {n} questions ({held_out} held out)",
    "evaluate.launch.set_help": "The questions with reference answers every strategy is scored on. "
                                "Build one on the Fine-tune page.",
    "evaluate.launch.part": "Questions to ask",
    "evaluate.launch.part_help": "Held out: the questions no fine-tune was trained on, the fair "
                                 "test. Train: the ones fine-tunes learned from (shows memorising).",
    "evaluate.part.held_out": "Held out",
    "evaluate.part.train": "Training part",
    "evaluate.part.all": "All",
    "evaluate.launch.strategies": "Strategies to compare",
    "evaluate.launch.base": "Base model (closed book)",
    "evaluate.launch.base_help": "The model alone, without your documents: the baseline every other "
                                 "strategy is measured against.",
    "evaluate.launch.rag": "RAG (base model + search in the documents)",
    "evaluate.launch.rag_help": "Retrieval-augmented generation: the best-matching passages of the "
                                "question set's corpus go into the prompt.",
    "evaluate.launch.mode": "Search",
    "evaluate.launch.mode_help": "How passages are found, for RAG and hybrid strategies: by meaning "
                                 "(vector search), by keywords (full-text search), or both.",
    "evaluate.mode.hybrid": "Hybrid (both)",
    "evaluate.mode.vector": "Meaning (vector)",
    "evaluate.mode.text": "Keywords",
    "evaluate.launch.k": "Passages per question",
    "evaluate.launch.k_help": "How many retrieved passages go into the prompt.",
    "evaluate.launch.finetuned": "Fine-tuned models (closed book)",
    "evaluate.launch.finetuned_help": "Registered fine-tuned models, each answering without the "
                                      "documents, from what it learned.",
    "evaluate.launch.hybrid": "Hybrid (fine-tuned model + search)",
    "evaluate.launch.hybrid_help": "A fine-tuned model given the retrieved passages too, with the "
                                   "search settings above.",
    "evaluate.launch.pick_models": "Pick models",
    "evaluate.launch.no_models": "No fine-tuned model yet: train one on the Fine-tune page to add "
                                 "fine-tuned and hybrid strategies.",
    "evaluate.launch.max_new_tokens": "Longest answer (tokens)",
    "evaluate.launch.max_new_tokens_help": "Answers stop after this many tokens. Short answers make "
                                           "a run faster; the references are one or two sentences.",
    "evaluate.launch.name": "Run name (optional)",
    "evaluate.launch.name_placeholder": "e.g. RAG k=3 against base",
    "evaluate.launch.submit": "Start evaluation",
    "evaluate.launch.no_strategy": "Pick at least one strategy to evaluate.",
    "evaluate.launch.started": "Started {name}: {n} questions × {strategies} strategies.",

    # --- the chosen run --------------------------------------------------------------------------
    "evaluate.run.pick": "Evaluation run",
    "evaluate.run.set": "Question set {name} v{version} ({part})",
    "evaluate.run.questions": "{n} questions",
    "evaluate.run.corpus": "corpus {name}, version {version}",
    "evaluate.run.strategies": "Strategies and settings ({n})",
    "evaluate.run.wait": "The results appear here when the run finishes; you can leave the page "
                         "meanwhile.",
    "evaluate.run.partial": "This run is incomplete: {answered} of {total} answers, {scored} "
                            "scored. The results below cover only what is done.",
    "evaluate.run.deleted": "Deleted the run {name}.",
    "evaluate.resume": "Resume",
    "evaluate.resume_help": "Answer and score only what is missing, on the same corpus version.",
    "evaluate.export.csv": "CSV",
    "evaluate.export.csv_help": "One row per question and strategy: the answer, latency, tokens "
                                "and every score with its status.",
    "evaluate.export.json": "JSON",
    "evaluate.export.json_help": "The run, every strategy's full settings, the summary and every "
                                 "answer with its scores.",
    "evaluate.delete": "Delete",
    "evaluate.delete_warning": "Delete the run {name} with all its answers and scores? This cannot "
                               "be undone.",
    "evaluate.delete_confirm": "Delete this run",

    # --- headline and overview -------------------------------------------------------------------
    "evaluate.headline_caption": "mean over the questions, change against the base model",
    "evaluate.vs_base": "vs base",
    "evaluate.overview.caption": "Bars show each strategy's mean score per metric, whiskers its 95% "
                                 "confidence interval. Hatched columns have no score: the metric "
                                 "does not apply, or every score failed.",
    "evaluate.axis.score": "Score (higher is better)",
    "evaluate.chart.not_applicable": "not applicable: no context",
    "evaluate.chart.failed": "failed: {n}",
    "evaluate.cell.not_applicable": "not applicable",
    "evaluate.cell.failed": "failed ({n})",
    "evaluate.cell.missing": "not scored yet",
    "evaluate.cell.some_failed": "; {n} failed",
    "evaluate.needs_judge": "Needs a judge: {metrics}. Configure a judge model on Settings to add "
                            "these scores.",
    "evaluate.not_judged": "Not judged yet: {metrics}. A judge is configured; judge this run to add these "
                            "scores.",
    "evaluate.metrics_explained": "What the metrics mean",

    # --- trade-offs ------------------------------------------------------------------------------
    "evaluate.tradeoff.axis": "Compare quality with",
    "evaluate.tradeoff.latency": "Slowest answers (p95 latency, s)",
    "evaluate.tradeoff.cost": "Cost per 1,000 questions (USD)",
    "evaluate.tradeoff.size": "One-off build cost",
    "evaluate.tradeoff.caption": "Up and to the left is better. Marker size: the one-off cost of "
                                 "building the strategy (indexing and training time); an open "
                                 "marker means it is not known.",
    "evaluate.build.none": "none",
    "evaluate.build.unknown": "not known",
    "evaluate.build.value": "{duration} ({cost} USD)",
    "evaluate.col.strategy": "Strategy",
    "evaluate.col.answered": "Answered",
    "evaluate.col.latency_mean": "Mean latency",
    "evaluate.col.latency_p95": "p95 latency",
    "evaluate.col.tokens": "Tokens in / out",
    "evaluate.col.cost": "Per 1,000 questions",
    "evaluate.col.build": "Build (one-off)",

    # --- per question ----------------------------------------------------------------------------
    "evaluate.question.metric": "Colour by",
    "evaluate.question.caption": "Click a cell, or pick a question below, to read every strategy's "
                                 "answer next to the reference.",
    "evaluate.question.open": "Question",
    "evaluate.heat.not_applicable": "n/a",
    "evaluate.heat.failed": "failed",
    "evaluate.heat.missing": "…",
    "evaluate.question.unanswerable": "Not answerable from the documents",
    "evaluate.question.reference": "Reference answer",
    "evaluate.question.no_reference": "(none)",
    "evaluate.question.reference_passages": "Reference passages ({n})",
    "evaluate.question.not_answered": "Not answered yet.",
    "evaluate.question.failed": "No answer: {error}",
    "evaluate.question.cost": "{latency} s · {tokens_in} tokens in, {tokens_out} out",
    "evaluate.question.closed_book": "Closed book: no passages given.",
    "evaluate.question.passages": "Passages given ({n})",

    # --- head to head ----------------------------------------------------------------------------
    "evaluate.h2h.a": "Strategy",
    "evaluate.h2h.b": "against",
    "evaluate.h2h.metric": "On",
    "evaluate.h2h.one_strategy": "This run has one strategy: add another to compare them.",
    "evaluate.h2h.same": "Pick two different strategies.",
    "evaluate.h2h.caption": "Paired by question: {n} questions scored for both. A difference within "
                            "±{tolerance} counts as a tie. Wilcoxon signed-rank p = {p}.",
    "evaluate.h2h.wins": "{name} better",
    "evaluate.h2h.questions": "Questions",
    "evaluate.h2h.ties": "Tie",
    "evaluate.h2h.difference": "{a} − {b}, {metric} (mean difference, 95% CI)",
    "evaluate.sentence.base": "the base model",
    "evaluate.sentence.rag": "RAG",
    "evaluate.sentence.finetuned": "the fine-tuned model",
    "evaluate.sentence.hybrid": "the hybrid",

    # --- unanswerable ----------------------------------------------------------------------------
    "evaluate.unanswerable.caption": "Questions the documents cannot answer ({n} in this run): the "
                                     "share each strategy correctly declines, with its 95% CI.",
    "evaluate.unanswerable.rate": "Declined (higher is better)",
    "evaluate.unanswerable.false_caption": "Answerable questions the strategy declined anyway, with "
                                           "its 95% CI.",
    "evaluate.unanswerable.false_rate": "Declined although answerable (lower is better)",
    "evaluate.unanswerable.none": "This run has no unanswerable questions. Add some to the question "
                                  "set (tag them unanswerable) to measure abstention.",
    "evaluate.unanswerable.not_measured": "This run did not measure abstention.",

    # --- compare runs ----------------------------------------------------------------------------
    "evaluate.compare.other": "Compare with",
    "evaluate.compare.metric": "On",
    "evaluate.compare.none": "There is no other run to compare with yet.",
    "evaluate.compare.no_metric": "The other run has no scores for this metric.",
    "evaluate.compare.nothing_shared": "The two runs share no strategy (strategies are matched by "
                                       "name).",
    "evaluate.compare.this_run": "this run",
    "evaluate.compare.unmatched": "In one run only: {names}.",
    "evaluate.compare.versions": "The runs used different corpus versions ({this} here, {other} "
                                 "there): differences may come from the documents.",

    # --- metrics ---------------------------------------------------------------------------------
    "metric.semantic_similarity": "Answer similarity",
    "metric.semantic_similarity.plain": "Answer matches the reference in meaning (semantic "
                                        "similarity).",
    "metric.semantic_similarity.help": "Cosine similarity of the sentence embeddings of answer and "
                                       "reference, with an embedding model suited to the questions' "
                                       "language (Ragas SemanticSimilarity). 1 = same meaning; "
                                       "unrelated text scores near 0.",
    "metric.rouge_l": "ROUGE-L",
    "metric.rouge_l.plain": "Answer reuses the reference's words in the same order.",
    "metric.rouge_l.help": "Longest common word sequence of answer and reference, as an F-measure "
                           "(Ragas RougeScore). 0 to 1. Undercounts accented words.",
    "metric.bleu": "BLEU",
    "metric.bleu.plain": "Answer shares short word sequences with the reference.",
    "metric.bleu.help": "Overlap of 1- to 4-word sequences with a penalty for short answers (Ragas "
                        "BleuScore). 0 to 1; strict with free-form answers.",
    "metric.chrf": "chrF",
    "metric.chrf.plain": "Answer shares character sequences with the reference.",
    "metric.chrf.help": "Character n-gram F-score (Ragas ChrfScore). 0 to 1; tolerant of word "
                        "endings and order, good for Spanish too.",
    "metric.string_similarity": "Text similarity",
    "metric.string_similarity.plain": "Answer is spelled like the reference.",
    "metric.string_similarity.help": "One minus the normalised edit distance (Levenshtein, Ragas "
                                     "NonLLMStringSimilarity). 1 = identical text.",
    "metric.exact_match": "Exact match",
    "metric.exact_match.plain": "Answer is exactly the reference.",
    "metric.exact_match.help": "1 when answer and reference are equal once case, punctuation, "
                               "articles and spaces are ignored, else 0. Meaningful for short "
                               "factual answers only.",
    "metric.token_f1": "Word overlap (F1)",
    "metric.token_f1.plain": "Answer and reference use the same words.",
    "metric.token_f1.help": "SQuAD-style F1 of the shared words after the exact-match clean-up. 0 "
                            "to 1.",
    "metric.context_precision": "Context precision",
    "metric.context_precision.plain": "The passages found are the right ones.",
    "metric.context_precision.help": "Share of retrieved passages that contain a reference passage, "
                                     "top ranks counting most (Ragas non-LLM context precision). "
                                     "0 to 1. Not applicable without retrieval.",
    "metric.context_recall": "Context recall",
    "metric.context_recall.plain": "The passages needed were found.",
    "metric.context_recall.help": "Share of reference passages found among the retrieved ones "
                                  "(Ragas non-LLM context recall). 0 to 1. Not applicable without "
                                  "retrieval.",
    "metric.abstention": "Abstention",
    "metric.abstention.plain": "Says \"I don't know\" when the documents have no answer.",
    "metric.abstention.help": "On unanswerable questions: 1 when the strategy declines, 0 when it "
                              "answers anyway. The mean is the share correctly declined.",
    "metric.false_abstention": "Needless abstention",
    "metric.false_abstention.plain": "Says \"I don't know\" although the documents have the "
                                     "answer.",
    "metric.false_abstention.help": "On answerable questions: 1 when the strategy declines. Lower "
                                    "is better.",
    "metric.faithfulness": "Faithfulness",
    "metric.faithfulness.plain": "Answer claims only what the passages support.",
    "metric.faithfulness.help": "Share of the answer's claims supported by the retrieved passages "
                                "(Ragas Faithfulness, LLM judge). 0 to 1.",
    "metric.response_relevancy": "Answer relevancy",
    "metric.response_relevancy.plain": "Answer addresses the question.",
    "metric.response_relevancy.help": "How directly the answer addresses the question (Ragas "
                                      "ResponseRelevancy, LLM judge).",
    "metric.llm_context_precision": "Context precision (judge)",
    "metric.llm_context_precision.plain": "A judge finds the passages useful.",
    "metric.llm_context_precision.help": "Share of retrieved passages the judge finds useful for the "
                                         "reference answer, top ranks counting most (Ragas, LLM "
                                         "judge).",
    "metric.llm_context_recall": "Context recall (judge)",
    "metric.llm_context_recall.plain": "A judge finds the reference's facts in the passages.",
    "metric.llm_context_recall.help": "Share of the reference answer's claims supported by the "
                                      "retrieved passages (Ragas LLMContextRecall).",
    "metric.factual_correctness": "Factual correctness",
    "metric.factual_correctness.plain": "Answer states the same facts as the reference.",
    "metric.factual_correctness.help": "F1 of the factual claims shared by answer and reference "
                                       "(Ragas FactualCorrectness, LLM judge).",
}
