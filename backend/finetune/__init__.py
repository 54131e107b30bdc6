"""The fine-tuning arm: question sets, training data, full / partial / adapter training, registry.

Modules, in the order data flows through them:
- ``question_io``, ``questions``, ``question_gen``: question sets (upload, Ragas import/export,
  versions, the seeded train/held-out split, generation from a corpus);
- ``corpus_text``: a corpus's chunks as training material;
- ``datasets``: training-data builders (question-answer pairs, continued pretraining), stored with
  their examples; ``overlap``: the held-out leak check; ``guard``: the sensitive-data guard;
- ``config`` (``FinetuneConfig``) and ``methods``: what trains, counted and applied;
- ``batches`` and ``trainer``: tokenising, length-grouped dynamic padding, the training loop with
  progress, validation, checkpoints, resume and cancel; ``estimate``: the pre-launch estimate;
- ``jobs``: the ``finetune`` job (``submit_finetune`` to enqueue); ``registry``: trained models,
  their lineage, downloads and ``load_for_inference``.
"""
