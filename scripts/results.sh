#!/usr/bin/env bash
# Reproduces docs/results.md: trains every model of the results page, evaluates it with
# `gan eval`, and prints one summary line per run. Each part can be run alone:
#
#   scripts/results.sh [classifier|mixtures|minibatch|minimax|stacked|mnist|progan|augment|
#                       cyclegan|sr|all]   (default: all)
#
# Runs go to runs/results/<name>/ (checkpoint, samples, eval.json); a run whose eval.json exists
# is not trained again, so an interrupted call picks up where it stopped. Settings are those of
# the results page; SEEDS, MIXTURE_STEPS, MIXTURE_ARCHS, MINIBATCH, MINIMAX_STEPS,
# STACKED_STEPS, MNIST_STEPS, STYLEGAN_STEPS, PROGAN_STEPS, AUGMENT_REAL, AUGMENT_NOISE,
# CYCLEGAN_EVAL, SRRESNET_STEPS, SRRESNET_SKIP_STEPS, SRGAN_STEPS and DEVICE override them, and
# BIN (below) runs a copy of the apps.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/cuda/bin:$PATH
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

part=${1:-all}
SEEDS=${SEEDS:-"0 1 2"}
MIXTURE_STEPS=${MIXTURE_STEPS:-5000}
MINIMAX_STEPS=${MINIMAX_STEPS:-500}
MIXTURE_ARCHS=${MIXTURE_ARCHS:-"gan-mlp wgan-mlp wgan-gp-mlp sngan-mlp"}
MINIBATCH=${MINIBATCH:-"100,5"}
STACKED_STEPS=${STACKED_STEPS:-2000}
MNIST_STEPS=${MNIST_STEPS:-1500}
STYLEGAN_STEPS=${STYLEGAN_STEPS:-4000}
PROGAN_STEPS=${PROGAN_STEPS:-4400}
AUGMENT_REAL=${AUGMENT_REAL:-"100 500"}
AUGMENT_NOISE=${AUGMENT_NOISE:-1}
CYCLEGAN_EVAL=${CYCLEGAN_EVAL:-2000}
SRRESNET_STEPS=${SRRESNET_STEPS:-1900}
SRRESNET_SKIP_STEPS=${SRRESNET_SKIP_STEPS:-2000}
SRGAN_STEPS=${SRGAN_STEPS:-400}
DEVICE=${DEVICE:-cpu}
# BIN: a directory holding gan, stylegan-lite and libganengine.so* copied from a build: no setup
# and no rebuild, so the runs are untouched by builds of build/dev meanwhile.
if [[ -n ${BIN:-} ]]; then
  GAN=$BIN/gan
  SGL=$BIN/stylegan-lite
  export LD_LIBRARY_PATH=$BIN${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
  GAN=build/dev/models/apps/gan
  SGL=build/dev/models/apps/stylegan-lite
fi
OUT=runs/results

setup() {
  scripts/setup.sh
  scripts/fetch_mnist.sh data/mnist
  cmake --preset dev >/dev/null
  cmake --build build/dev --target gan stylegan-lite
}

classifier() {
  if [[ ! -f data/classifier/classifier.json ]]; then
    "$GAN" classifier train --data data/mnist --out data/classifier --device "$DEVICE"
  fi
}

# run NAME APP TRAIN-ARGS...: trains (unless evaluated already) and evaluates.
run() {
  local name=$1 app=$2
  shift 2
  local dir=$OUT/$name
  if [[ ! -f $dir/eval.json ]]; then
    local start=$SECONDS
    "$app" train --out "$dir" --device "$DEVICE" --quiet "$@"
    echo "$((SECONDS - start))" >"$dir/train_seconds"
    "$GAN" eval --ckpt "$dir" --device "$DEVICE" ${EVAL_N:+--n "$EVAL_N"} >/dev/null
  fi
  echo "$name: $(tr -d '\n ' <"$dir/eval.json" | head -c 400) train_s=$(cat "$dir/train_seconds")"
}

mixtures() {
  for data in ring8 grid25; do
    for arch in $MIXTURE_ARCHS; do
      for seed in $SEEDS; do
        run "$arch-$data-$MIXTURE_STEPS-s$seed" "$GAN" --arch "$arch" --data "$data" --seed "$seed" \
          --steps "$MIXTURE_STEPS" --batch 128 --checkpoint-every 0 --sample-every 0
      done
    done
  done
}

# The non-saturating MLP GAN with minibatch discrimination (B,C = $MINIBATCH) on the mixtures.
minibatch() {
  for data in ring8 grid25; do
    for seed in $SEEDS; do
      run "gan-mlp-mbd-$data-$MIXTURE_STEPS-s$seed" "$GAN" --arch gan-mlp --data "$data" \
        --seed "$seed" --steps "$MIXTURE_STEPS" --batch 128 --minibatch-discrimination "$MINIBATCH" \
        --checkpoint-every 0 --sample-every 0
    done
  done
}

# DCGAN on MNIST with the saturating minimax generator loss against the non-saturating one
# (MINIMAX_STEPS steps, G's gradient norm logged every 10): the step at which the mean norm of
# a 10-step interval first falls below a tenth of the first interval's.
minimax() {
  classifier
  for loss in nonsaturating minimax; do
    for seed in $SEEDS; do
      local name="dcgan-mnist-$loss-$MINIMAX_STEPS-s$seed"
      run "$name" "$GAN" --arch dcgan --data mnist:data/mnist --loss "$loss" --seed "$seed" \
        --steps "$MINIMAX_STEPS" --batch 64 --log-grad-norm --log-every 10 \
        --checkpoint-every 0 --sample-every 0
      /usr/bin/python3 - "$OUT/$name/metrics.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
first = lines[0]["g_grad_norm"]
collapsed = next((l["step"] for l in lines if l["g_grad_norm"] < 0.1 * first), None)
last = lines[-1]
print(f"  g_grad_norm first {first:.3g}, last {last['g_grad_norm']:.3g}; below a tenth at step "
      f"{collapsed if collapsed is not None else 'never'}; last d_fake {last['d_fake']:.2f}")
PY
    done
  done
}

stacked() {
  classifier
  run "dcgan-stacked-mnist" "$GAN" --arch dcgan --data stacked-mnist:data/mnist \
    --steps "$STACKED_STEPS" --batch 64 --checkpoint-every 0 --sample-every 0
  # The same with minibatch discrimination (B,C = $MINIBATCH) before D's last layer.
  run "dcgan-stacked-mnist-mbd" "$GAN" --arch dcgan --data stacked-mnist:data/mnist \
    --steps "$STACKED_STEPS" --batch 64 --minibatch-discrimination "$MINIBATCH" \
    --checkpoint-every 0 --sample-every 0
}

mnist() {
  classifier
  run "dcgan-mnist" "$GAN" --arch dcgan --data mnist:data/mnist --steps "$MNIST_STEPS" \
    --batch 64 --checkpoint-every 0 --sample-every 0
  run "stylegan-lite-mnist" "$SGL" --data mnist:data/mnist --steps "$STYLEGAN_STEPS" \
    --checkpoint-every 0 --sample-every 0
  # The same run with a discriminator that judges one image at a time.
  run "stylegan-lite-mnist-pack1" "$SGL" --data mnist:data/mnist --steps "$STYLEGAN_STEPS" \
    --pack 1 --checkpoint-every 0 --sample-every 0
}

# Progressive GAN on MNIST at the wall time of the DCGAN row: width 32, batch 32, each stage
# fading in over 16,000 images and holding 16,000, the last stage then to PROGAN_STEPS; a grid
# every 500 steps, so each stage's samples are kept.
progan() {
  classifier
  run "progan-mnist" "$GAN" --arch progan --data mnist:data/mnist --steps "$PROGAN_STEPS" \
    --batch 32 --width 32 --fade-images 16000 --stable-images 16000 --checkpoint-every 0 \
    --sample-every 500
}

# GANs as data augmentation: for AUGMENT_REAL real digits (10 and 50 per class), a cGAN trained
# on them for 1,500 steps with instance noise of std AUGMENT_NOISE (annealed to 0; 1 is gan
# augment's default, 0 shows the cGAN without it), 10,000 synthetic digits, and the classifier
# trained for 1,000 updates on the real digits, on real + synthetic and on synthetic alone (CAS).
augment() {
  for real in $AUGMENT_REAL; do
    for seed in $SEEDS; do
      local name=augment-$real-n$AUGMENT_NOISE-s$seed
      if [[ ! -f $OUT/$name/augment.json ]]; then
        "$GAN" augment --data data/mnist --real "$real" --synthetic 10000 --gan-steps 1500 \
          --classifier-steps 1000 --instance-noise "$AUGMENT_NOISE" --seed "$seed" \
          --device "$DEVICE" --out "$OUT/$name" --quiet >/dev/null
      fi
      echo "$name: $(tr -d '\n ' <"$OUT/$name/augment.json")"
    done
  done
}

# CycleGAN, typeset digits (A) to handwritten MNIST digits (B): the settings sweep of the results
# page, one seed each, width 32, batch 1 (the reference's), one thread per run.
cyclegan() {
  classifier
  local row layers identity blocks steps extra
  for row in "3 0.5 6 3000" "3 0 6 3000" "1 0.5 6 3000" "1 0 6 3000" "1 0 6 12000" "2 0.5 6 6000" \
    "2 0.5 2 6000" "2 0.5 6 6000 --lambda-cycle 20" "2 2 6 6000"; do
    read -r layers identity blocks steps extra <<<"$row"
    local name="cyclegan-d$layers-i$identity-b$blocks-$steps${extra:+-c20}"
    EVAL_N=$CYCLEGAN_EVAL OMP_NUM_THREADS=1 run "$name" "$GAN" --arch cyclegan --data-a typeset \
      --data-b mnist:data/mnist --width 32 --d-layers "$layers" --lambda-identity "$identity" \
      --resnet-blocks "$blocks" --steps "$steps" --checkpoint-every 0 --sample-every 0 $extra
  done
}

# 4x super-resolution of the opencv-doc photographs (scripts/fetch_photos.sh): the paper's
# SRResNet on pixel MSE; SRResNet without batch norm and with the bicubic skip; SRGAN from the
# latter's generator. All scored on data/photos/test beside bicubic.
sr() {
  scripts/fetch_photos.sh
  run "srresnet" "$GAN" --arch srresnet --data folder:data/photos/train --width 32 --sr-blocks 8 \
    --batch 16 --steps "$SRRESNET_STEPS" --g-lr 1e-3 --lr-decay-steps $((SRRESNET_STEPS / 2)) \
    --checkpoint-every 0 --sample-every 0
  run "srresnet-skip" "$GAN" --arch srresnet --data folder:data/photos/train --width 32 \
    --sr-blocks 8 --sr-norm none --sr-skip bicubic --batch 16 --steps "$SRRESNET_SKIP_STEPS" \
    --g-lr 1e-3 --lr-decay-steps $((SRRESNET_SKIP_STEPS / 2)) --checkpoint-every 0 --sample-every 0
  run "srgan" "$GAN" --arch srgan --data folder:data/photos/train --width 32 --sr-blocks 8 \
    --sr-norm none --sr-skip bicubic --batch 16 --steps "$SRGAN_STEPS" \
    --init "$OUT/srresnet-skip" --content-loss features --checkpoint-every 0 --sample-every 0
}

[[ -n ${BIN:-} ]] || setup
case "$part" in
  classifier) classifier ;;
  mixtures) mixtures ;;
  minibatch) minibatch ;;
  minimax) minimax ;;
  stacked) stacked ;;
  mnist) mnist ;;
  progan) progan ;;
  augment) augment ;;
  cyclegan) cyclegan ;;
  sr) sr ;;
  all) classifier && mixtures && minibatch && minimax && stacked && mnist && progan && augment && cyclegan && sr ;;
  *) echo "usage: scripts/results.sh [classifier|mixtures|minibatch|minimax|stacked|mnist|progan|augment|cyclegan|sr|all]" >&2; exit 2 ;;
esac
