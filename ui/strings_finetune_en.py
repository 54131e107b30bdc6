"""English strings of the Fine-tune page (merged into the catalogue by ui/i18n.py).

The form's help texts are the fine-tune configuration's own field help (``FinetuneConfig``
metadata), so the English form and the CLI say the same; Spanish translates them.
"""

from backend.finetune.config import describe

STRINGS = {
    "finetune.title": "Fine-tune",
    "finetune.intro": "Teach the model your documents: make a question set, turn it into training "
                      "data, train an adapter, some layers or the whole model, and keep every "
                      "trained model with the record of how it was made. Training runs in the "
                      "worker; you can leave this page and come back.",
    "finetune.empty.no_corpus": "No corpus yet: create one on the Corpora page and add documents "
                                "(or load the demo), then come back to make questions and train.",
    "finetune.open_corpora": "Open Corpora",
    "finetune.no_documents": "{name} has no documents yet: you can upload a question set, but "
                             "generating questions and training on the text need documents. Add "
                             "some on the Corpora page.",
    "finetune.tab.sets": "1 · Question sets",
    "finetune.tab.data": "2 · Training data",
    "finetune.tab.train": "3 · Train and runs",
    "finetune.tab.models": "Trained models",

    # question sets
    "finetune.upload.title": "Upload a question set",
    "finetune.upload.file": "CSV, JSONL or JSON file",
    "finetune.upload.file_help": "Columns: question and reference (the answer); optional "
                                 "reference_contexts, tags (e.g. unanswerable) and part "
                                 "(train / held_out). Ragas EvaluationDataset files (user_input, "
                                 "reference) are read too.",
    "finetune.upload.parsed": "{n} question(s) read from {name}. Check and edit them below, then "
                              "save.",
    "finetune.upload.save": "Save question set",
    "finetune.generate.title": "Generate from the corpus",
    "finetune.generate.why": "Extractive generator (no model): it picks informative sentences "
                             "from the documents and wraps each in a template question (\"What is "
                             "X?\"), with the sentence as the answer. The bundled model is too "
                             "small to write good questions, so this is the honest default; the "
                             "questions are templates, not paraphrases.",
    "finetune.generate.default_name": "{corpus} · extractive",
    "finetune.generate.n": "Questions",
    "finetune.generate.n_help": "At most this many; fewer when the corpus has fewer usable "
                                "sentences.",
    "finetune.generate.submit": "Generate",
    "finetune.generate.running": "Picking sentences and writing questions…",
    "finetune.set.name": "Name",
    "finetune.set.held_out": "Held-out share",
    "finetune.set.held_out_help": "The share of questions kept out of training to measure what the "
                                  "model learnt. The split is seeded and reproducible; an edited "
                                  "version keeps every question's part.",
    "finetune.set.seed": "Seed",
    "finetune.set.seed_help": "The same seed gives the same split.",
    "finetune.set.label": "{name} v{version} · {n} questions",
    "finetune.set.saved": "Saved {name} v{version}: {n} questions, {held_out} held out.",
    "finetune.set.generated": "Generated {name}: {n} questions, {held_out} held out.",
    "finetune.set.split": "{fraction} held out, seed {seed}",
    "finetune.set.corpus_version": "corpus version {version}",
    "finetune.set.extractive_note": "Made by the extractive generator: each question is a template "
                                    "around a sentence of the corpus, and its answer is that "
                                    "sentence.",
    "finetune.set.save_version": "Save edits as a new version",
    "finetune.set.save_version_help": "Sets are never changed in place: your edits become the next "
                                      "version. Questions keep their part; new ones are assigned "
                                      "by the seeded split.",
    "finetune.set.export.ragas": "Export (Ragas)",
    "finetune.set.export.ragas_help": "JSONL of Ragas EvaluationDataset records (user_input, "
                                      "reference, reference_contexts).",
    "finetune.set.export.csv": "Export (CSV)",
    "finetune.set.export.csv_help": "CSV with question, reference, reference_contexts, tags and "
                                    "part.",
    "finetune.set.delete": "Delete",
    "finetune.set.delete_warning": "Delete {name} v{version}? Datasets built from it keep their "
                                   "examples.",
    "finetune.set.delete_confirm": "Delete this version",
    "finetune.set.deleted": "Deleted {name} v{version}.",
    "finetune.sets.title": "Question sets of this corpus",
    "finetune.sets.empty": "No question set yet: upload one or generate one above. Next, build "
                           "training data from it on the Training data tab.",
    "finetune.sets.pick": "Question set",
    "finetune.source.upload": "Uploaded file",
    "finetune.source.ragas": "Ragas file",
    "finetune.source.extractive": "Extractive generator (no model)",
    "finetune.source.llm": "Written by a model",
    "finetune.source.edit": "Edited",
    "finetune.col.name": "Name",
    "finetune.col.version": "Version",
    "finetune.col.source": "Made by",
    "finetune.col.questions": "Questions",
    "finetune.col.train": "Train",
    "finetune.col.held_out": "Held out",
    "finetune.col.held_out_help": "Never trained on; used to measure what the model learnt.",
    "finetune.col.created": "Created",
    "finetune.col.question": "Question",
    "finetune.col.reference": "Reference answer",
    "finetune.col.contexts": "Reference contexts",
    "finetune.col.contexts_help": "Passages that support the answer, separated by ||.",
    "finetune.col.tags": "Tags",
    "finetune.col.tags_help": "Separated by ; (e.g. unanswerable).",
    "finetune.col.part": "Part",
    "finetune.col.part_help": "train or held_out; leave empty to let the seeded split decide.",
    "finetune.col.system": "System",
    "finetune.col.user": "User (question)",
    "finetune.col.assistant": "Assistant (answer)",
    "finetune.col.text": "Text",

    # training data
    "finetune.build.title": "Build training data",
    "finetune.build.builder": "Builder",
    "finetune.builder.qa_pairs": "Question-answer pairs",
    "finetune.builder.qa_pairs.what": "One chat example per question of a set's train part: the "
                                      "user asks, the assistant gives the reference answer.",
    "finetune.builder.continued_pretraining": "Continued pretraining",
    "finetune.builder.continued_pretraining.what": "The corpus's chunks as plain text, every token "
                                                   "learnt (how the model was first trained).",
    "finetune.builder.paraphrase": "Paraphrased pairs",
    "finetune.builder.paraphrase.what": "Several rewordings of each question-answer pair.",
    "finetune.builder.raft": "RAFT (question + passages)",
    "finetune.builder.raft.what": "The question with its gold passage and distractors, then the "
                                  "answer: for the hybrid strategy.",
    "finetune.build.set": "From the train part of",
    "finetune.build.set_label": "{name} v{version} · {n} train questions",
    "finetune.build.set_help": "Only the train part is used; held-out questions never reach "
                               "training.",
    "finetune.build.unanswerable": "Include unanswerable questions",
    "finetune.build.unanswerable_help": "Teaches the model to say the documents do not answer.",
    "finetune.build.name": "Dataset name",
    "finetune.build.name_placeholder": "optional",
    "finetune.build.submit": "Build dataset",
    "finetune.build.running": "Building the examples…",
    "finetune.build.no_sets": "This builder reads a question set, and the corpus has none yet: "
                              "make one on the Question sets tab.",
    "finetune.dataset.label": "{name} · {builder} · {n} examples",
    "finetune.dataset.built": "Built {name}: {n} examples.",
    "finetune.dataset.examples": "{n} examples",
    "finetune.dataset.from_set": "from {set}",
    "finetune.dataset.skipped": "{n} skipped (no answer or too short)",
    "finetune.dataset.text_example": "Plain text (every token is learnt):",
    "finetune.dataset.more": "Showing the first {shown} of {n} examples.",
    "finetune.dataset.delete": "Delete",
    "finetune.dataset.delete_warning": "Delete the dataset {name}? Models trained on it keep a "
                                       "summary of it.",
    "finetune.dataset.delete_confirm": "Delete dataset",
    "finetune.dataset.deleted": "Deleted the dataset {name}.",
    "finetune.datasets.title": "Datasets of this corpus",
    "finetune.datasets.empty": "No training data yet: build a dataset above. Next, train on it on "
                               "the Train tab.",
    "finetune.datasets.pick": "Dataset",
    "finetune.checks.running": "Checking against the held-out questions…",
    "finetune.checks.leaks": "{n} held-out question(s) appear in this data: training on it is "
                             "refused (the evaluation would be inflated). Remove them and build "
                             "again.",
    "finetune.checks.near": "{n} held-out question(s) are near-duplicates of training questions "
                            "(embedding similarity at least 0.95). Training is allowed; check "
                            "them.",
    "finetune.checks.clean": "No held-out question appears in this data (exact or near-duplicate).",
    "finetune.leak.line": "- “{question}” ({set} v{version}, example {example}: {how})",

    # the form
    "finetune.train.no_dataset": "No training data for this corpus yet: build a dataset on the "
                                 "Training data tab first.",
    "finetune.train.dataset": "Train on",
    "finetune.train.run_name": "Model name",
    "finetune.train.run_name_placeholder": "{method} · {dataset}",
    "finetune.train.base_model": "Base model: {model}",
    "finetune.train.estimate": "Update estimate",
    "finetune.train.launch": "Launch training",
    "finetune.train.preview": "Training data preview",
    "finetune.method.adapter": "Adapter (LoRA)",
    "finetune.method.partial": "Partial",
    "finetune.method.full": "Full",
    "finetune.method.adapter.what": "Adds small new matrices beside the model and trains only "
                                    "those; the model itself never changes. Lightest and fastest.",
    "finetune.method.partial.what": "Trains only the top layers of the model; the rest stays "
                                    "frozen. A middle way.",
    "finetune.method.full.what": "Every weight of the model trains. Learns the most, needs the "
                                 "most memory, and forgets more of what it knew.",
    "finetune.group.method": "What trains",
    "finetune.group.training": "Training",
    "finetune.group.monitoring": "Progress, validation and checkpoints",
    "finetune.field.method": "Method",
    "finetune.field.top_n_layers": "Top layers to train",
    "finetune.field.train_head": "Also train the output head",
    "finetune.field.lora_r": "LoRA rank (r)",
    "finetune.field.lora_alpha": "LoRA alpha",
    "finetune.field.lora_dropout": "LoRA dropout",
    "finetune.field.target_modules": "Layers that get LoRA",
    "finetune.field.learning_rate": "Learning rate (0 = usual)",
    "finetune.field.epochs": "Epochs",
    "finetune.field.batch_size": "Batch size",
    "finetune.field.grad_accum": "Gradient accumulation",
    "finetune.field.max_length": "Longest example (tokens)",
    "finetune.field.warmup_ratio": "Warm-up share",
    "finetune.field.weight_decay": "Weight decay",
    "finetune.field.max_grad_norm": "Gradient clipping",
    "finetune.field.max_steps": "Stop after steps (0 = all)",
    "finetune.field.val_fraction": "Validation share",
    "finetune.field.eval_every": "Validate every (steps)",
    "finetune.field.log_every": "Report every (steps)",
    "finetune.field.checkpoint_every": "Checkpoint every (steps)",
    "finetune.field.precision": "Precision",
    "finetune.field.seed": "Seed",
    "finetune.field.gradient_checkpointing": "Gradient checkpointing",
    "finetune.guard.found": "Personal or sensitive data in {examples} training example(s): "
                            "{kinds}. A model cannot forget what it was trained on. Choose below "
                            "what to do; the choice is recorded with the model.",
    "finetune.guard.more": "and {n} more",
    "finetune.guard.choice": "Sensitive data",
    "finetune.guard.redact": "Redact it",
    "finetune.guard.redact.what": "Each item becomes a placeholder such as [EMAIL] before training.",
    "finetune.guard.acknowledge": "Train on it as it is",
    "finetune.guard.acknowledge.what": "I accept the risk that the model repeats it.",
    "finetune.guard.refuse": "Do not train (cancel)",
    "finetune.guard.refuse.what": "Nothing is trained on this data.",
    "finetune.launch.leaks": "This dataset holds held-out questions: training on it is refused. "
                             "See the list above.",
    "finetune.launch.guard_refused": "Nothing was launched: choose to redact the sensitive data or "
                                     "to accept the risk.",
    "finetune.launch.queued": "Training queued: {method} on {dataset}. Follow it below.",
    "finetune.estimate.title": "Before you launch: the estimate",
    "finetune.estimate.running": "Estimating…",
    "finetune.estimate.trainable": "Trainable",
    "finetune.estimate.trainable_help": "Parameters that train: {share} % of the model's {total}.",
    "finetune.estimate.memory": "Memory",
    "finetune.estimate.memory_help": "Peak memory of the run: weights, gradients and optimiser "
                                     "state of what trains, and one batch's activations.",
    "finetune.estimate.epoch": "Per epoch",
    "finetune.estimate.total": "Whole run",
    "finetune.estimate.steps": "{steps} steps ({per_epoch} per epoch) over {examples} examples, "
                               "{tokens} tokens per epoch.",
    "finetune.estimate.what_trains": "What really trains: {summary}",
    "finetune.estimate.tied": "SmolLM2 ties its output head to its input embeddings (one shared "
                              "matrix): training the head changes the input embeddings too.",
    "finetune.estimate.basis.formula": "Estimated by formula from this dataset's real token counts "
                                       "and speeds measured on a 2-core reference machine; a "
                                       "rough guide elsewhere.",
    "finetune.estimate.basis.measured": "Measured by timing real training steps on this machine.",

    # runs
    "finetune.runs.title": "Runs",
    "finetune.runs.none": "No training run yet: fill in the form above and launch one.",
    "finetune.runs.no_worker": "No worker is running: queued runs wait until one starts "
                               "(./lab worker, or restart the lab).",
    "finetune.runs.pick": "Run",
    "finetune.runs.col.run": "Run",
    "finetune.runs.col.loss": "Final loss",
    "finetune.runs.col.method": "Method",
    "finetune.runs.resume": "Resume",
    "finetune.runs.resume_help": "Queue the run again: it continues from its last checkpoint.",
    "finetune.runs.lineage": "How {name} was made",
    "finetune.curves.title": "Loss",
    "finetune.curves.train": "Training loss",
    "finetune.curves.validation": "Validation loss",
    "finetune.curves.step": "Step",
    "finetune.curves.loss": "Loss",
    "finetune.curves.none": "The loss curves appear once training reports its first steps.",

    # the registry
    "finetune.models.empty": "No trained model yet: launch a run on the Train tab. Each model is "
                             "kept here with how it was made.",
    "finetune.models.intro": "{n} model(s), newest first. Each keeps the record of how it was made.",
    "finetune.model.status.ready": "Ready",
    "finetune.model.status.training": "Training",
    "finetune.model.status.failed": "Failed",
    "finetune.model.status.cancelled": "Cancelled",
    "finetune.model.download": "Download ZIP",
    "finetune.model.format.peft-adapter": "A standard PEFT adapter folder: load it with "
                                          "PeftModel.from_pretrained over the base model.",
    "finetune.model.format.safetensors-full": "A complete transformers model folder.",
    "finetune.model.format.safetensors-partial": "Only the weights that trained; the lab applies "
                                                 "them over the base model.",
    "finetune.model.format.other": "The model's folder, with its lineage.",
    "finetune.model.delete": "Delete",
    "finetune.model.delete_warning": "Delete {name} and its weights? This cannot be undone.",
    "finetune.model.delete_confirm": "Delete model",
    "finetune.model.deleted": "Deleted the model {name}.",
    "finetune.lineage.base": "Base model",
    "finetune.lineage.method": "Method",
    "finetune.lineage.hyperparameters": "Hyperparameters",
    "finetune.lineage.dataset": "Dataset",
    "finetune.lineage.dataset_value": "{name} ({builder}, {n} examples)",
    "finetune.lineage.corpus": "Corpus",
    "finetune.lineage.corpus_value": "{name}, version {version}",
    "finetune.lineage.corpus_gone": "(deleted)",
    "finetune.lineage.trainable": "Trained parameters",
    "finetune.lineage.trainable_value": "{n} of {total} ({share} %)",
    "finetune.lineage.steps": "Steps",
    "finetune.lineage.duration": "Training time",
    "finetune.lineage.final_loss": "Final training loss",
    "finetune.lineage.final_val_loss": "Final validation loss",
    "finetune.lineage.guard": "Sensitive data",
    "finetune.lineage.guard.clean": "none found",
    "finetune.lineage.guard.redact": "redacted",
    "finetune.lineage.guard.acknowledge": "trained on it, risk accepted",
    "finetune.lineage.guard.refuse": "refused",
    "finetune.lineage.hardware": "Trained on",
}

# the form's help: the configuration's own words
STRINGS.update({f"finetune.help.{item['name']}": item["help"] for item in describe()})
