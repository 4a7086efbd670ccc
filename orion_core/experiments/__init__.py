"""Experiments that train and evaluate together, above :mod:`orion_core.train` and :mod:`orion_core.eval`.

* ``registry`` the paper's ablation tables (4, 5, 6, 10, 11 and the object projectors of Table 7) as experiments:
               variants (config overrides, whose object tokens, parent checkpoint, stages, masks), comparisons with
               the direction the paper reports, partitions ``<variant>__seed<N>``; the runs themselves are the
               ``experiment_run`` asset's partitions, trained by the same stage code as the main graph
* ``summary``  a table from its runs: mean per task group over seeds, paired bootstrap intervals, chart, the
               direction of each effect against the paper (``directions``), and the report over every table
* ``table4``   Table 4's names from before the registry
* ``cli``      ``orion eval``: score a checkpoint on a benchmark
"""
