"""Audio conventions shared by every part of the project: wav <-> log-mel <-> spectrogram image (Auffusion's
exactly), HiFi-GAN, Griffin-Lim and the one vocoder factory."""

GRIFFINLIM_ITERS = 32  # the one Griffin-Lim default of every script; the README's imprint numbers were measured with it
