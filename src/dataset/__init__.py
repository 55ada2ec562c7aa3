"""Speech dataset pipeline: word list -> prompts -> TTS -> 10.24 s clips -> log-mels + phonemes -> manifest.csv.

Each step is a function here and a thin script in `data/`; `data/run.sh` chains them. All steps share one
output layout (`BuildLayout`) and skip work that is already done, so reruns are cheap.
"""
from src.dataset.layout import BuildLayout, DatasetError

__all__ = ["BuildLayout", "DatasetError"]
