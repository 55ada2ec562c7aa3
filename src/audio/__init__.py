"""Audio conventions shared by every part of the project: wav <-> log-mel <-> spectrogram image (Auffusion's exactly), HiFi-GAN, Griffin-Lim and the one vocoder factory."""
