#!/usr/bin/env bash
# Rebuild hep-jepa/hep-jepa-tiny and every number in its card, from a checkout of hep-jepa.
#
#   bash model_cards/hep-jepa-tiny/recipe.sh            (all steps; about 3 h on 2 cores)
#   STEP=pretrain bash model_cards/hep-jepa-tiny/recipe.sh   (one step: corpus, pretrain,
#                                                    probes, fewshot, tables, ship)
#
# Versions used for the shipped model (2026-12-05, retrained the same day): Python 3.11, torch 2.13.0+cpu,
# transformers 5.25.0, pythia8mc 8.317.2, fastjet 3.5.2, awkward 2.14.0, numpy 2.4.6,
# scikit-learn 1.9.1. Set-up: python -m venv .venv && . .venv/bin/activate &&
#   pip install torch==2.13.0 && pip install -e ".[all,test]"
set -euo pipefail
cd "$(dirname "$0")/../.."
STEP=${STEP:-all}
RUN=${RUN:-runs/hep-jepa-tiny}
CARD=model_cards/hep-jepa-tiny
REALDATA=${REALDATA:-../shared/realdata}

if [[ $STEP == all || $STEP == corpus ]]; then
    # 1. Corpus: labelled few-shot set (3,000 jets per class, seeds 1000 + label), test set
    #    (2,000 per class, seeds 2000 + label) and the unlabelled pretraining corpus (20,000
    #    per class, seeds 3000 + label) for QCD, Tbqq, Wqq, Zqq, Hbb: 125,000 jets, about
    #    1.5 h on 2 cores. Resumable: rerun to finish a stopped run.
    WORKERS=2 bash examples/make_corpus.sh data
fi

if [[ $STEP == all || $STEP == pretrain ]]; then
    # 2. Pretraining: tiny preset, 2,000 steps of 128 jets (2.6 passes over the corpus),
    #    block masking (4 blocks of 15 %), EMA 0.996 -> 1, a jet-level JEPA term, token-level
    #    VICReg terms and the observable term (a linear map of the pooled context embedding
    #    regresses six substructure observables of the whole jet). About 35 min with one
    #    thread on a 2-core machine whose other core is busy.
    OMP_NUM_THREADS=1 hep-jepa pretrain --data data/pretrain --config tiny --output "$RUN" \
        --max-steps 2000 --batch-size 128 --learning-rate 5e-4 --logging-steps 50 \
        --save-steps 500 --seed 0 --no-progress \
        --set jet_loss_weight=1.0 variance_weight=1.0 covariance_weight=0.04 \
        regularization_level=token observable_loss_weight=1.0
fi

if [[ $STEP == all || $STEP == probes ]]; then
    # 3. Frozen-embedding probes (5-fold logistic regression) against random encoders of
    #    the same size (seeds 0, 1, 2) and five substructure observables.
    mkdir -p "$CARD/probes"
    probe() {  # name, data..., extra flags via PROBE_FLAGS
        local name=$1; shift
        OMP_NUM_THREADS=1 python examples/probe_embeddings.py --model "$RUN" --random-baseline \
            --random-seeds 0 1 2 --substructure ${PROBE_FLAGS:-} --data "$@" \
            --json "$CARD/probes/$name.json"
    }
    probe generated-5-class data/test
    probe generated-top-vs-qcd data/test/QCD data/test/Tbqq
    probe real-top_tagging "$REALDATA/top_tagging"
    PROBE_FLAGS="--jet-radius 0.4" probe real-quark_gluon "$REALDATA/quark_gluon"
    probe real-jetclass "$REALDATA/jetclass"
fi

if [[ $STEP == all || $STEP == fewshot ]]; then
    # 4. Few-shot study: 1,000 labelled jets per class of the few-shot set (the first ones),
    #    10 % of them for early stopping, the rest the training pool; tested on the first
    #    1,000 jets per class of the test set; 5 seeds per label fraction up to 2 %, 3 above.
    #    The fine-tuned encoder gets the same learning rate as the from-scratch one (1e-3);
    #    its linear head starts at random (the default; LP-FT, --finetune-head-init probe,
    #    did worse from 0.5 % up: see the card). Run as two jobs
    #    (one per core), the 100 % fraction with at most 6 epochs instead of 15 to fit the
    #    session, then merged. About 25 min on 2 cores.
    fewshot() {  # output, then extra flags
        local out=$1; shift
        OMP_NUM_THREADS=1 hep-jepa fewshot --model "$RUN" --data data/fewshot \
            --max-jets-per-class 1000 --test-data data/test/*/*_00000.parquet \
            --output "$out" --patience 3 --backbone-learning-rate 1e-3 \
            --finetune-head-init random --name "generated 5-class" "$@"
    }
    fewshot runs/fewshot-small --fractions 0.002 0.005 0.02 --seeds 0 1 2 3 4 --epochs 15 &
    fewshot runs/fewshot-10 --fractions 0.1 --seeds 0 1 2 --epochs 15
    fewshot runs/fewshot-full --fractions 1.0 --seeds 0 1 2 --epochs 6
    wait
    hep-jepa fewshot --merge runs/fewshot-small runs/fewshot-10 runs/fewshot-full \
        --allow-different max_epochs --output "$CARD/fewshot"
fi

if [[ $STEP == all || $STEP == tables ]]; then
    # The card's tables, printed from the JSON above; and the training curves.
    python "$CARD/make_tables.py"
    cp "$RUN"/training_info.json "$CARD"/training_info.json
    cp "$RUN"/pretraining.png "$CARD"/pretraining.png
fi

if [[ $STEP == all || $STEP == ship ]]; then
    # 5. Package data: the weights, config and processor in hep_jepa/pretrained.
    TARGET=hep_jepa/pretrained/hep-jepa--hep-jepa-tiny
    cp "$RUN"/config.json "$RUN"/model.safetensors "$RUN"/processor_config.json "$TARGET"/
fi
