"""Sampling methods: the weight-free imprint combination and (issue 4) the joint diffusion loop."""
