# The Bach card's current run (models/README.md), written once for the two scripts that go on with it:
# train_bach.sh (here, in the background) and burst.sh (on a machine with more cores). Sourced, not run;
# both cd to the repository root first. NODE: the node binary (default node).
#
#   bach_datasets NOTES DIR      the 128-step windows (DIR/training_poly_tracks.tfrecord) and their copy with
#                                thin openings (DIR/training_thin.tfrecord, which the run trains on), made from
#                                NOTES (the chorales converted); the result's checksum is BACH_THIN_SHA
#   bach_train_args RUN FILE T   sets BACH_TRAIN to the card's train command (without `node polyrnn.js`):
#                                run folder RUN, training file FILE, T threads; callers add how often to save
BACH_HPARAMS="batch_size=64,rnn_layer_sizes=[256,256,256],dropout_keep_prob=0.5,clip_norm=5,learning_rate=0.0003"
BACH_THIN_SHA=950f3f890759bd1a8768de12d792b857e2f6933a632556b72df9ed88d71b9126

bach_datasets() {
  "${NODE:-node}" dist/cli/polyrnn.js dataset --input="$1" --output_dir="$2" --eval_ratio=0.1 --seed=1 --max_steps=128 \
    --split_long_tracks --log=ERROR
  # The run goes on with thin openings since step 6,581 of its third part (models/README.md).
  "${NODE:-node}" scripts/thin_openings.mjs "$2/training_poly_tracks.tfrecord" "$2/training_thin.tfrecord" 0.25 1
}

bach_train_args() {
  BACH_TRAIN=(train --run_dir="$1" --sequence_example_file="$2" --seed=7 --kernels=wasm --threads="$3"
    --batching=random --hparams="$BACH_HPARAMS" --num_training_steps=100000 --summary_frequency=10)
}
