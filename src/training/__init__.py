"""LoRA fine-tuning of Auffusion on speech (train_auffusion.py is the command line; `train(TrainConfig)` the entry)."""
