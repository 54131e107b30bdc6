"""Interface strings of the Load demo panel (Home), in English."""

STRINGS: dict[str, str] = {
    "demo.title": "Try it with the demo",
    "demo.intro": "Nortera Outdoor, a made-up outdoor-gear company, lends its documents: HR "
                  "policies, product sheets, support and returns, information security, in "
                  "English and Spanish. One click builds all four strategies on them and "
                  "compares them.",
    "demo.what.title": "What Load demo will do",
    "demo.what.corpus": "Ingest {documents} documents ({formats}) into a corpus called "
                        "“Nortera demo”, and scan them for personal data ({planted} documents "
                        "have some planted on purpose).",
    "demo.what.questions": "Store {questions} questions with reference answers: {train} to train "
                           "on and {held_out} held out for the evaluation, some of them "
                           "unanswerable on purpose.",
    "demo.what.dataset": "Build the training data from the training questions and the documents' "
                         "text; the personal data in it is redacted (replaced by placeholders "
                         "such as [EMAIL]) and the decision is recorded.",
    "demo.what.finetune": "Train a LoRA adapter on the bundled SmolLM2 model (two passes over "
                          "the data).",
    "demo.what.evaluate": "Ask the {held_out} held-out questions to the base model, RAG, the "
                          "fine-tuned model and the hybrid, and score every answer.",
    "demo.what.freshness": "Prepare the freshness check: the returns policy changes, and "
                           "{freshness} questions show which strategies notice. You start it "
                           "here once the demo is ready.",
    "demo.what.time": "Measured on this 2-core machine while other work kept it busy: about "
                      "14 minutes, 7 of them training. An idle machine is faster. Clicking again "
                      "reuses what exists and takes seconds.",
    "demo.stage.corpus": "Documents",
    "demo.stage.questions": "Questions",
    "demo.stage.dataset": "Training data",
    "demo.stage.finetune": "Training",
    "demo.stage.evaluate": "Evaluation",
    "demo.stage.freshness": "Freshness check",
    "demo.load": "Load demo",
    "demo.reload": "Load demo again",
    "demo.load_help": "Runs as a background job: you can use other pages meanwhile. What already "
                      "exists is reused, so a second click is quick.",
    "demo.no_worker": "No worker is running, so the demo will wait in the queue. Start the lab "
                      "with its launcher (`./lab`), which starts a worker too.",
    "demo.ready": "The demo is ready: {documents} documents, {questions} questions ({held_out} "
                  "held out), a LoRA adapter trained in {train}, and four strategies compared.",
    "demo.redacted": "Personal data was found in {n} training examples ({places}): {kinds}. "
                     "The demo redacted it before training; the decision is recorded with the "
                     "model.",
    "demo.kind.email": "e-mail addresses",
    "demo.kind.phone": "phone numbers",
    "demo.kind.dni": "national IDs (DNI)",
    "demo.kind.nie": "foreigner IDs (NIE)",
    "demo.kind.iban": "bank accounts (IBAN)",
    "demo.kind.card": "payment card numbers",
    "demo.kind.ssn": "US social security numbers",
    "demo.kind.ip": "IP addresses",
    "demo.metric_help": "Mean similarity of the answers to the reference answers, 0 to 1 (95% "
                        "confidence interval {low}–{high}, {n} questions).",
    "demo.metric_caption": "Answer matches the reference (semantic similarity), held-out "
                           "questions; the arrow is the difference from the base model. The "
                           "Evaluate page has every metric, the intervals and each answer.",
    "demo.freshness.title": "Freshness scenario: the returns policy changes",
    "demo.freshness.intro": "A new version of the returns policy (English and Spanish) gives "
                            "customers longer to return and changes refund times and costs. The "
                            "check asks {n} questions before and right after the change with "
                            "every strategy, then retrains the fine-tuned model and asks again. "
                            "It takes a few minutes and leaves the new policy in the demo corpus.",
    "demo.freshness.run": "Run the freshness check",
    "demo.freshness.run_help": "Runs as a background job, like the demo.",
    "demo.freshness.updated_after_ingest": "{label}: reflected the change as soon as the new "
                                           "policy was ingested ({duration} after the change).",
    "demo.freshness.updated_after_retrain": "{label}: reflected the change only after the "
                                            "retrain ({duration} after the change).",
    "demo.freshness.not_updated": "{label}: did not reflect the change.",
    "demo.freshness.already_current": "{label}: already gave the new answers before the change.",
    "demo.freshness.under_second": "less than a second",
    "demo.freshness.retrain": "Retraining the fine-tuned model on the updated answers took "
                              "{duration}.",
    "demo.gone": "The demo's results were deleted. Load the demo again to rebuild them.",
    "demo.link.evaluate": "See the results",
    "demo.link.ask": "Ask a question",
    "demo.link.finetune": "See the model",
    "demo.link.corpora": "See the documents",
    "unit.answers": "answers",
}
