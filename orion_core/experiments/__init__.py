"""Experiments that train and evaluate together, above :mod:`orion_core.train` and :mod:`orion_core.eval`.

* ``table4``  the paper's Table 4 with controls: the variants (video-only, VideoOrion, equal frames, shuffled
              objects), their partitions, and the summary (mean per task group, paired bootstrap intervals, chart);
              the runs themselves are the ``table4_run`` assets, trained by the same stage code as the main graph
* ``cli``     ``orion eval``: score a checkpoint on a benchmark
"""
