"""Scoring many architectures: the orchestration, the stores that keep finished scores, the score-file reader.

- `score_space` -- every arch × proxy, resumable, one shared seeded batch per proxy settings; tss
  genotypes go through the batched engine (`nasbench_eval.engine`) where it is faster.
- `store` -- `ScoreStore`, the SQLite score store keyed by everything that changes a score.
- `sqlite_file` -- `SqliteFile`, the SQLite file both stores (this one and Stage-1's prediction store,
  `nasbench_eval.train.prediction_store`) are built on.
- `scorefile` -- `read_scores`: a scores CSV aligned with the benchmark and oriented higher-is-better.

One architecture's score is `nasbench_eval.proxies.score_arch`; this package scores lists of them. Import from
the modules (``from nasbench_eval.scoring.score_space import score_space``): the package re-exports nothing, so
``nasbench_eval.scoring.score_space`` is always the module.
"""
