#!/usr/bin/env bash
# Word list -> training manifest, offline: prompts, TTS, 10.24 s canvas, log-mel .npy, phonemes, manifest.csv.
# Every variable can be set from the environment, e.g.  L=200 JOBS=4 SAVE_PNGS=1 data/run.sh --check
# Reruns skip finished work; a failed clip is reported and the others go on. PYTHON=... picks the interpreter
# (default: the repo's .venv, else python3).
set -euo pipefail

L="${L:-50}"                      # number of prompts (clips)
W="${W:-9}"                       # words per prompt
TTS_MODEL="${TTS_MODEL:-piper}"   # piper | espeak | nemo (nemo needs NEMO_MODEL and NEMO_VOCODER)
SAVE_PNGS="${SAVE_PNGS:-0}"       # 1 = also write spectrogram PNGs
OUT="${OUT:-}"                    # build folder (default: data/build in the repo); relative = to where you are
JOBS="${JOBS:-$(nproc)}"          # worker processes per step
CHECK="${CHECK:-0}"               # 1 (or --check) = score every clip with the built-in WER, list bad ones
SEED="${SEED:-0}"                 # prompt sampling seed
WORDS="${WORDS:-}"                # word list (default: data/words.txt)
STRETCH="${STRETCH:-0}"           # 1 = speak short clips slower (up to 1.5x) to fill 90% of the canvas
MAX_WER="${MAX_WER:-0.5}"         # --check: clips above this WER are listed as bad
LENGTH_SCALE="${LENGTH_SCALE:-}"  # TTS slowness (>1 slower); empty = the voice's default
PLBERT_DIR="${PLBERT_DIR:-}"      # local PL-BERT checkpoint folder; empty = skip PL-BERT embeddings
NEMO_MODEL="${NEMO_MODEL:-}"      # TTS_MODEL=nemo: local Tacotron2/FastPitch .nemo file
NEMO_VOCODER="${NEMO_VOCODER:-}"  # TTS_MODEL=nemo: local HiFi-GAN .nemo file

usage() {  # the variable lines above are the one list: name, default and meaning are read from them
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  echo "usage: [VAR=value ...] $0 [--check] [-h]"
  echo "variables: name, default, meaning"
  local line re='^([A-Z_]+)="\$\{[A-Z_]+:-(.*)\}" *# *(.*)$'
  while IFS= read -r line; do
    if [[ "$line" =~ $re ]]; then
      printf '  %-13s %-10s %s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]:-(empty)}" "${BASH_REMATCH[3]}"
    fi
  done < "$0"
}
fail() { echo "error: $*" >&2; exit 2; }
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    -h|--help) usage; exit 0 ;;
    *) fail "unknown argument '$arg': run.sh takes only --check; set variables in the environment (see --help)" ;;
  esac
done

# Every variable is checked here, so that a mistake is told by its variable's name (the scripts name their flags).
is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }
is_number() { [[ "$1" =~ ^[0-9]*\.?[0-9]+$ ]]; }
for var in L W JOBS; do is_count "${!var}" || fail "$var must be a whole number >= 1, got '${!var}'"; done
[[ "$SEED" =~ ^[0-9]+$ ]] || fail "SEED must be a whole number >= 0, got '$SEED'"
for var in SAVE_PNGS CHECK STRETCH; do
  [[ "${!var}" == 0 || "${!var}" == 1 ]] || fail "$var must be 0 or 1, got '${!var}'"
done
is_number "$MAX_WER" || fail "MAX_WER must be a number (e.g. 0.5), got '$MAX_WER'"
if [[ -n "$LENGTH_SCALE" ]]; then
  is_number "$LENGTH_SCALE" && awk -v x="$LENGTH_SCALE" 'BEGIN { exit !(x >= 0.2 && x <= 5) }' \
    || fail "LENGTH_SCALE must be between 0.2 and 5 (empty = the voice's pace), got '$LENGTH_SCALE'"
fi
case "$TTS_MODEL" in
  piper) ;;
  espeak) command -v espeak-ng >/dev/null || command -v espeak >/dev/null \
            || fail "TTS_MODEL=espeak needs espeak-ng (apt-get install espeak-ng), or use TTS_MODEL=piper" ;;
  nemo) [[ -f "$NEMO_MODEL" && -f "$NEMO_VOCODER" ]] \
          || fail "TTS_MODEL=nemo needs NEMO_MODEL and NEMO_VOCODER set to local .nemo files" ;;
  *) fail "TTS_MODEL must be piper, espeak or nemo, got '$TTS_MODEL'" ;;
esac
[[ -z "$WORDS" || -f "$WORDS" ]] || fail "WORDS: word list not found: $WORDS"
[[ -z "$PLBERT_DIR" || -d "$PLBERT_DIR" ]] || fail "PLBERT_DIR: folder not found: $PLBERT_DIR"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
absolute() { if [[ -z "$1" || "$1" == /* ]]; then echo "$1"; else echo "$PWD/$1"; fi; }
OUT="$(absolute "${OUT:-$ROOT/data/build}")"
WORDS="$(absolute "$WORDS")"; PLBERT_DIR="$(absolute "$PLBERT_DIR")"
NEMO_MODEL="$(absolute "$NEMO_MODEL")"; NEMO_VOCODER="$(absolute "$NEMO_VOCODER")"
if [[ -n "${PYTHON:-}" ]]; then PY="$PYTHON"                    # an explicit interpreter wins
elif [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"; else PY=python3; fi

common=(--out_dir "$OUT" --jobs "$JOBS")
prompt_args=(--out_dir "$OUT" -L "$L" -W "$W" --seed "$SEED")
[[ -n "$WORDS" ]] && prompt_args+=(--words "$WORDS")
tts_args=(--tts "$TTS_MODEL")
[[ -n "$LENGTH_SCALE" ]] && tts_args+=(--length_scale "$LENGTH_SCALE")
[[ -n "$NEMO_MODEL" ]] && tts_args+=(--nemo_model "$NEMO_MODEL")
[[ -n "$NEMO_VOCODER" ]] && tts_args+=(--nemo_vocoder "$NEMO_VOCODER")
resize_args=()
if [[ "$STRETCH" == 1 && "$TTS_MODEL" != nemo ]]; then
  tts_args+=(--stretch)      # slow the speech itself: keeps it intelligible
elif [[ "$STRETCH" == 1 ]]; then
  resize_args+=(--stretch)   # nemo has no length_scale here: phase-vocoder stretch of the wav
fi
spec_args=()
[[ "$SAVE_PNGS" == 1 ]] && spec_args+=(--save_pngs)
phoneme_args=(--out_dir "$OUT" --skip-existing)
[[ -n "$PLBERT_DIR" ]] && phoneme_args+=(--plbert_dir "$PLBERT_DIR")

cd "$ROOT"
start=$(date +%s)
"$PY" data/create_prompts_from_words.py "${prompt_args[@]}"
"$PY" data/generate_tts.py "${common[@]}" --skip-existing "${tts_args[@]}"
"$PY" data/resize_audio.py "${common[@]}" --skip-existing "${resize_args[@]}"
"$PY" data/generate_spectograms.py "${common[@]}" --skip-existing "${spec_args[@]}"
"$PY" data/generate_phonemes.py "${phoneme_args[@]}"
"$PY" data/create_manifest.py --out_dir "$OUT"
if [[ "$CHECK" == 1 ]]; then
  "$PY" data/check_clips.py "${common[@]}" --max_wer "$MAX_WER"
fi
echo "run.sh: done in $(( $(date +%s) - start )) s -> $OUT/manifest.csv"
