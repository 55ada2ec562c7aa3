"""Speech: offline text-to-speech backends behind one function, and phonemes."""
