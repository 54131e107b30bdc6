"""English strings of the Ask page's side-by-side comparison (the page's older keys are in
``ui/strings_en.py``). Same keys as ``ui/strings_ask_es.py``."""

STRINGS: dict[str, str] = {
    "ask.compare.intro": "Ask a question about a corpus and see how each strategy answers it, side "
                         "by side: the base model alone, RAG (passages found in the corpus, cited "
                         "as [1], [2]…), a fine-tuned model, and hybrid (the fine-tuned model with "
                         "those passages). Each is asked exactly as Evaluate asks it.",
    "ask.compare.strategies": "Strategies",
    "ask.compare.strategies_help": "Base model: the model alone, closed book. RAG: the model reads "
                                   "the passages that best match the question. Fine-tuned: a model "
                                   "trained on your documents, closed book. Hybrid: that fine-tuned "
                                   "model reading the passages too. They answer one after another.",
    "ask.compare.model": "Fine-tuned model",
    "ask.compare.model_help": "Used by Fine-tuned and Hybrid. Models trained on this corpus come "
                              "first, newest first.",
    "ask.compare.model_other_corpus": "trained on “{corpus}”",
    "ask.compare.no_model": "Fine-tuned and hybrid answers need a fine-tuned model. Train one on "
                            "the Fine-tune page (an adapter takes a few minutes), then come back.",
    "ask.compare.open_finetune": "Open Fine-tune",
    "ask.compare.max_new_tokens_help": "The model stops after this many tokens (about ¾ of a word "
                                       "each). Evaluate uses {n} by default, so its answers read "
                                       "like these.",
    "ask.compare.pick_one": "Pick at least one strategy.",
    "ask.compare.waiting": "Waiting for its turn…",
    "ask.compare.preparing": "Preparing the model…",
    "ask.compare.closed_book": "Closed book: from the model's weights only, no documents.",
    "ask.compare.summary": "Fastest: {fastest} ({fast} s); slowest: {slowest} ({slow} s, {ratio}× "
                           "as long). Prompt size: from {least} tokens ({fewest}) to {largest} "
                           "({most}).",
    "ask.metric.latency_total_help": "Time from the question to the complete answer: the search "
                                     "(RAG, hybrid) plus writing the answer. The first question "
                                     "after the lab starts is slower: the models warm up then.",
    "ask.made.search": "search: {mode}, {s} s",
}
