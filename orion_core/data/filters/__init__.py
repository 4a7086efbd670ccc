"""Dataset filters of stage-2 data (PAPER.md): quality, caption-video similarity, noun-phrase concept balance.

``filter_dataset(rows, config)`` scores every manifest row with the scorers named by ``config.data.scorer``
(classical OpenCV statistics for the embedded default, CLIP/SigLIP for the 7B presets), drops rows below the
thresholds, balances concept nouns, and accounts for every input row; ``write_filtered(result, out_dir)`` writes
the training set (``train.json``), the removals and a report. ``orion filter`` is the command line.
"""

from .base import QualityScorer, Scorers, SimilarityScorer
from .concepts import BalanceResult, balance_concepts
from .dataset import REASONS, FilterResult, FrameDecodeError, caption_of, filter_dataset, load_scoring_frames
from .report import filter_into, filtered_digest, plot_scores, write_filtered
from .scorers import build_scorers

__all__ = [
    "BalanceResult", "FilterResult", "FrameDecodeError", "QualityScorer", "REASONS", "Scorers", "SimilarityScorer",
    "balance_concepts", "build_scorers", "caption_of", "filter_dataset", "filter_into", "filtered_digest", "load_scoring_frames", "plot_scores",
    "write_filtered",
]
